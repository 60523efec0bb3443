# cmake -DPROGRAM=... -DWORKDIR=... -DURL_FILE=... -DFIRST="regex" -DSECOND="regex" -P run_twice_postgres.cmake
# Runs a sample twice with --postgres on the tests' throwaway cluster (its URL
# in URL_FILE), both runs in one new schema, and checks each run's output.
# With -DREAD_TABLE=T, also that the runs keep table T of the sample's durable
# read model in the read schema on the server (psql): rows after the first
# run, twice as many after the second (the scenario runs again).
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
  if(READ_TABLE)
    execute_process(COMMAND psql "${url}" -XAtc "SELECT count(*) FROM ${schema}_read.${READ_TABLE}"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE rows ERROR_VARIABLE err TIMEOUT 60)
    string(STRIP "${rows}" rows)
    if(NOT rc EQUAL 0 OR NOT rows MATCHES "^[1-9][0-9]*$")
      message(FATAL_ERROR "after the ${run} run, ${schema}_read.${READ_TABLE} is not there with rows (${rc}): ${rows} ${err}")
    endif()
    if(NOT DEFINED first_rows)
      set(first_rows ${rows})
    else()
      math(EXPR twice "${first_rows} * 2")
      if(NOT rows EQUAL twice)
        message(FATAL_ERROR "${schema}_read.${READ_TABLE}: ${first_rows} rows after the first run, ${rows} after the second (not ${twice})")
      endif()
    endif()
  endif()
endforeach()
message(STATUS "both runs of ${PROGRAM} on PostgreSQL (schema ${schema}) as expected")
