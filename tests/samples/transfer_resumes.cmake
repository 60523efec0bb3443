# cmake -DPROGRAM=... -DWORKDIR=... -P transfer_resumes.cmake
# The transfer sample killed (kill -9) in the middle of a transfer, then run
# again in the same folder: the saga finishes the transfer the first run left,
# and the second run's own transfers complete and compensate as always.
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
execute_process(COMMAND "${PROGRAM}" --kill-midway WORKING_DIRECTORY "${WORKDIR}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
if(rc EQUAL 0 OR NOT out MATCHES "debited; the program kills itself now")
  message(FATAL_ERROR "the --kill-midway run was not killed midway (exit ${rc}):\n${out}\n${err}")
endif()
execute_process(COMMAND "${PROGRAM}" --status WORKING_DIRECTORY "${WORKDIR}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
set(expected
    "Finished 1 transfer\\(s\\) an earlier run left unfinished:\n  \\$25.00 from Alice to Bob: completed\n"
    "  \\$30.00 from Alice to Bob: completed\n"
    "  \\$20.00 from Alice to Carol: failed: the credit was refused \\(rejected: Carol's account takes no credits\\); refunded\n"
    "Balances: Alice \\$70.00, Bob \\$30.00, Carol \\$0.00"
    "TransferSaga +live")
foreach(pattern IN LISTS expected)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "${pattern}")
    message(FATAL_ERROR "the run after the kill (exit ${rc}) does not match '${pattern}':\n${out}\n${err}")
  endif()
endforeach()
message(STATUS "the transfer left by the killed run was finished")
