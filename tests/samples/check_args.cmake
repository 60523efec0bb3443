# cmake -DPROGRAM=... -DWORKDIR=... -DCONFIG=<repo>/config/interlock.ini -DEXPECT="regex" -DDEFAULT_DB=data/x.db -P check_args.cmake
# A sample's command line (samples/sample_config.hpp): --help; --config-file and
# --interlock.SECTION.KEY=VALUE; the --db / --memory shorthands and where they
# stand in the precedence; and the errors, each one line on stderr naming the
# flag or key, exit status 2 (never a crash), and no journal created. EXPECT
# matches the output of a successful run on a fresh journal.
foreach(var PROGRAM WORKDIR CONFIG EXPECT DEFAULT_DB)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_args.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")

set(failures "")

# check(NAME name RC code [OUT regex] [ERR regex] [CREATES file...] ARGS arg...)
# Runs PROGRAM ARGS in WORKDIR. RC 2 also requires exactly one line on stderr,
# nothing on stdout and no data/ folder (an error comes before any journal).
function(check)
  cmake_parse_arguments(C "" "NAME;RC;OUT;ERR" "CREATES;ARGS" ${ARGN})
  execute_process(COMMAND "${PROGRAM}" ${C_ARGS} WORKING_DIRECTORY "${WORKDIR}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
  set(problems "")
  if(NOT "${rc}" STREQUAL "${C_RC}")
    list(APPEND problems "exited '${rc}', expected ${C_RC}")
  endif()
  if(DEFINED C_OUT AND NOT out MATCHES "${C_OUT}")
    list(APPEND problems "stdout does not match '${C_OUT}'")
  endif()
  if(DEFINED C_ERR AND NOT err MATCHES "${C_ERR}")
    list(APPEND problems "stderr does not match '${C_ERR}'")
  endif()
  if(C_RC EQUAL 2)
    string(REGEX REPLACE "\n$" "" line "${err}")
    if(line STREQUAL "" OR line MATCHES "\n")
      list(APPEND problems "stderr is not exactly one line")
    endif()
    if(NOT out STREQUAL "")
      list(APPEND problems "stdout is not empty")
    endif()
    if(EXISTS "${WORKDIR}/data")
      list(APPEND problems "it created ${WORKDIR}/data")
    endif()
  endif()
  foreach(f IN LISTS C_CREATES)
    if(NOT EXISTS "${WORKDIR}/${f}")
      list(APPEND problems "it did not create ${f}")
    endif()
  endforeach()
  if(problems)
    string(REPLACE ";" "; " problems "${problems}")
    string(STRIP "${out}" out)
    string(STRIP "${err}" err)
    set(failures "${failures}\n${C_NAME}: ${problems}\n  args: ${C_ARGS}\n  stdout: ${out}\n  stderr: ${err}" PARENT_SCOPE)
  else()
    message(STATUS "ok: ${C_NAME}")
  endif()
endfunction()

# --help: the sample's usage and flags; --long-help: every runtime setting with its default.
check(NAME help RC 0 OUT "usage: .*--db=PATH.*--memory.*--config-file" ARGS --help)
check(NAME help_short RC 0 OUT "usage: " ARGS -h)
if(DEFINED HELP_EXTRA)  # what a sample takes besides its flags (banking: debug COMMAND)
  check(NAME help_extra RC 0 OUT "${HELP_EXTRA}" ARGS --help)
endif()
check(NAME long_help RC 0 OUT "interlock\\.journal\\.max_batch=.*\\(default: 1024\\).*interlock\\.log\\.level=.*\\(default: \"\"\\)"
      ARGS --long-help)
check(NAME help_wins_over_errors RC 0 OUT "usage: " ARGS --interlock.journal.max_btch=1 --help)

# Errors: one line naming the key or flag, exit 2.
check(NAME unknown_key RC 2 ERR "unknown option --interlock\\.journal\\.max_btch.*did you mean interlock\\.journal\\.max_batch"
      ARGS --interlock.journal.max_btch=1)
check(NAME bad_value RC 2 ERR "interlock\\.journal\\.max_batch: bad value 'abc'" ARGS --interlock.journal.max_batch=abc)
check(NAME override_without_value RC 2 ERR "--interlock\\.journal\\.max_batch needs a value" ARGS --interlock.journal.max_batch)
check(NAME missing_config_file RC 2 ERR "cannot open config file .*no-such\\.ini" ARGS --config-file=${WORKDIR}/no-such.ini)
file(WRITE "${WORKDIR}/bad.ini" "[interlock.journal]\nmax_batch = 0\n")
check(NAME bad_config_file RC 2 ERR "interlock\\.journal\\.max_batch: bad value '0'" ARGS --config-file=${WORKDIR}/bad.ini)
file(WRITE "${WORKDIR}/syntax.ini" "[interlock.journal]\nsynchronous = normal\n")
check(NAME config_file_syntax RC 2 ERR "syntax\\.ini:2:16: .*strings in quotes" ARGS --config-file=${WORKDIR}/syntax.ini)
file(WRITE "${WORKDIR}/typo.ini" "[interlock.jurnal]\nmax_batch = 5\n")
check(NAME config_file_unknown_section RC 2 ERR "interlock\\.jurnal\\.max_batch: unknown key .did you mean interlock\\.journal\\.max_batch"
      ARGS --config-file=${WORKDIR}/typo.ini)
check(NAME unknown_flag RC 2 ERR "unknown option --frobnicate" ARGS --frobnicate)
check(NAME positional_argument RC 2 ERR "unknown argument 'extra'" ARGS --memory extra)
check(NAME double_dash RC 2 ERR "unexpected '--'" ARGS --memory -- x)
check(NAME db_without_path RC 2 ERR "--db needs a value" ARGS --db)
check(NAME db_empty_path RC 2 ERR "--db needs a value" ARGS --db=)
check(NAME db_before_a_flag RC 2 ERR "--db needs a value" ARGS --db --memory)
check(NAME db_and_in_memory_option RC 2 ERR "--db and interlock\\.journal\\.in_memory = true contradict"
      ARGS --db=a.db --interlock.journal.in_memory=true)
check(NAME double_dash_alone RC 2 ERR "unexpected '--'" ARGS --)
file(WRITE "${WORKDIR}/caf-application.ini" "[interlock.journal]\nsynchronous = normal\n")
check(NAME help_with_a_broken_ini RC 2 ERR "caf-application\\.ini:2:16: .*strings in quotes" ARGS --help)
file(REMOVE "${WORKDIR}/caf-application.ini")
check(NAME db_and_memory RC 2 ERR "--db and --memory contradict each other" ARGS --db a.db --memory)
check(NAME memory_and_db RC 2 ERR "--db and --memory contradict each other" ARGS --memory --db=a.db)
check(NAME postgres_without_url RC 2 ERR "--postgres needs a value" ARGS --postgres)
check(NAME postgres_and_db RC 2 ERR "--postgres and --db contradict each other" ARGS --postgres postgresql://x/y --db a.db)
check(NAME postgres_and_memory RC 2 ERR "--postgres and --memory contradict each other"
      ARGS --memory --postgres=postgresql://x/y)
check(NAME db_and_its_option RC 2 ERR "--db and --interlock\\.journal\\.database_path both set the journal file"
      ARGS --db a.db --interlock.journal.database_path=b.db)
check(NAME memory_and_its_option RC 2 ERR "--memory and --interlock\\.journal\\.in_memory both set in_memory"
      ARGS --interlock.journal.in_memory=false --memory)
file(WRITE "${WORKDIR}/empty.ini" "[interlock.journal]\ndatabase_path = \"\"\n")
check(NAME empty_path RC 2 ERR "interlock\\.journal\\.database_path: empty" ARGS --config-file=${WORKDIR}/empty.ini)

# Runs. Each on a fresh journal, so EXPECT holds for every one.
check(NAME config_and_db RC 0 OUT "${EXPECT}" CREATES given.db ARGS --config-file=${CONFIG} --db ${WORKDIR}/given.db)
if(EXISTS "${WORKDIR}/data")
  set(failures "${failures}\nconfig_and_db: --db did not win over the config file's database_path")
endif()
check(NAME config_and_memory RC 0 OUT "${EXPECT}" ARGS --memory --config-file=${CONFIG})
if(EXISTS "${WORKDIR}/data")
  set(failures "${failures}\nconfig_and_memory: --memory did not win over the config file's in_memory = false")
endif()
check(NAME config_and_overrides RC 0 OUT "${EXPECT}" CREATES option.db
      ARGS --config-file=${CONFIG} --interlock.journal.database_path=option.db --interlock.journal.synchronous=normal
           --interlock.journal.max_batch=1 --interlock.log.level=error)
check(NAME db_equals RC 0 OUT "${EXPECT}" CREATES equals.db ARGS --db=equals.db)
# The config file's database_path beats the sample's own default.
check(NAME config_alone RC 0 OUT "${EXPECT}" CREATES data/interlock.db ARGS --config-file=${CONFIG})
# caf-application.ini in the working directory is read without a flag.
file(WRITE "${WORKDIR}/caf-application.ini" "[interlock.journal]\ndatabase_path = \"from-default-ini.db\"\n")
check(NAME default_ini RC 0 OUT "${EXPECT}" CREATES from-default-ini.db ARGS)
file(REMOVE "${WORKDIR}/caf-application.ini")
# An [interlock.journal] section without database_path keeps the sample's own default file.
file(WRITE "${WORKDIR}/caf-application.ini" "[interlock.journal]\nsynchronous = \"normal\"\n")
file(REMOVE_RECURSE "${WORKDIR}/data")
check(NAME ini_section_keeps_default_db RC 0 OUT "${EXPECT}" CREATES ${DEFAULT_DB} ARGS)
file(REMOVE "${WORKDIR}/caf-application.ini")

if(failures)
  message(FATAL_ERROR "${PROGRAM}:${failures}")
endif()
message(STATUS "every command line check of ${PROGRAM} as expected")
