# cmake -DPROGRAM=... -DWORKDIR=... -DFIRST="regex" -DSECOND="regex" -P run_twice.cmake
# Runs a sample twice in a fresh WORKDIR (so both runs share its default
# database) and checks each run's output.
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
foreach(run FIRST SECOND)
  execute_process(COMMAND "${PROGRAM}" WORKING_DIRECTORY "${WORKDIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${run} run of ${PROGRAM} exited ${rc}:\n${out}\n${err}")
  endif()
  if(NOT out MATCHES "${${run}}")
    message(FATAL_ERROR "${run} run of ${PROGRAM} does not match '${${run}}':\n${out}")
  endif()
endforeach()
message(STATUS "both runs of ${PROGRAM} as expected")
