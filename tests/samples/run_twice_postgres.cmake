# cmake -DPROGRAM=... -DWORKDIR=... -DURL_FILE=... -DFIRST="regex" -DSECOND="regex" -P run_twice_postgres.cmake
# Runs a sample twice with --postgres on the tests' throwaway cluster (its URL
# in URL_FILE), both runs in one new schema, and checks each run's output.
file(READ "${URL_FILE}" url)
string(STRIP "${url}" url)
string(RANDOM LENGTH 10 ALPHABET "abcdefghijklmnopqrstuvwxyz" suffix)
set(schema "sample_${suffix}")
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")
foreach(run FIRST SECOND)
  execute_process(COMMAND "${PROGRAM}" --postgres "${url}" "--interlock.journal.postgres_schema=${schema}"
                  WORKING_DIRECTORY "${WORKDIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 120)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${run} run of ${PROGRAM} on PostgreSQL exited ${rc}:\n${out}\n${err}")
  endif()
  if(NOT out MATCHES "${${run}}")
    message(FATAL_ERROR "${run} run of ${PROGRAM} on PostgreSQL does not match '${${run}}':\n${out}")
  endif()
endforeach()
message(STATUS "both runs of ${PROGRAM} on PostgreSQL (schema ${schema}) as expected")
