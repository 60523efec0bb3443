# cmake -P script behind the ctest test install.consumer_builds_against_installed_tree.
#
#   -DINTERLOCK_BINARY_DIR=  the project's build tree (already configured)
#   -DINTERLOCK_SOURCE_DIR=  the project's source tree (the consumer must not see it)
#   -DCONSUMER_SOURCE_DIR=   tests/install/consumer
#   -DWORK_DIR=              scratch dir (wiped): prefix/ and consumer-build/ go there
#   -DCONFIG=                build configuration ($<CONFIG>)
#   -DGENERATOR=             CMake generator for the consumer (the project's)
#   -DCXX_COMPILER=          C++ compiler for the consumer (the project's)
#
# Steps: (1) make sure the library is built, (2) install into WORK_DIR/prefix,
# (3) configure + build the consumer with CMAKE_PREFIX_PATH=prefix only,
# (4) check that the interlock headers it compiled against came from the
# prefix, (5) run it. Any failure stops with that step's output.
cmake_minimum_required(VERSION 3.25)

foreach(var INTERLOCK_BINARY_DIR INTERLOCK_SOURCE_DIR CONSUMER_SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "run_consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG RelWithDebInfo)
endif()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")

# Runs one step; on failure prints the command and everything it printed.
function(run_step name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT;OUTPUT_VARIABLE" "COMMAND")
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 540)
  endif()
  string(JOIN " " shown ${arg_COMMAND})
  message(STATUS "[install test] ${name}: ${shown}")
  execute_process(COMMAND ${arg_COMMAND}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE out
    TIMEOUT ${arg_TIMEOUT})
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR
      "[install test] step '${name}' FAILED (result: ${rc})\n"
      "command: ${shown}\n"
      "---- output ----\n${out}\n---- end of output ----")
  endif()
  if(arg_OUTPUT_VARIABLE)
    set(${arg_OUTPUT_VARIABLE} "${out}" PARENT_SCOPE)
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# (1) The library must exist before it can be installed (a no-op after a full build).
run_step("build library"
  COMMAND "${CMAKE_COMMAND}" --build "${INTERLOCK_BINARY_DIR}" --target interlock --config "${CONFIG}" --parallel 2)

# (2) Install into a fresh prefix.
run_step("install"
  COMMAND "${CMAKE_COMMAND}" --install "${INTERLOCK_BINARY_DIR}" --prefix "${prefix}" --config "${CONFIG}")

set(installed_header "${prefix}/include/interlock/runtime/interlock.hpp")
if(NOT EXISTS "${installed_header}")
  message(FATAL_ERROR "[install test] the install did not produce ${installed_header}")
endif()
foreach(path "${prefix}/include/interlock" "${prefix}/include/interlock/runtime" "${installed_header}")
  if(IS_SYMLINK "${path}")
    message(FATAL_ERROR "[install test] ${path} is a symlink: the installed tree must be a copy")
  endif()
endforeach()

# (3) Configure and build the consumer against the prefix only.
set(configure_args
  -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}"
  "-DCMAKE_PREFIX_PATH=${prefix}"
  "-DCMAKE_BUILD_TYPE=${CONFIG}"
  "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"
  "-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF"
  "-DINTERLOCK_EXPECTED_PREFIX=${prefix}"
  "-DINTERLOCK_FORBIDDEN_SOURCE_DIR=${INTERLOCK_SOURCE_DIR}"
  "-DINTERLOCK_FORBIDDEN_BINARY_DIR=${INTERLOCK_BINARY_DIR}")
if(GENERATOR)
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
run_step("configure consumer" COMMAND "${CMAKE_COMMAND}" ${configure_args})
run_step("build consumer"
  COMMAND "${CMAKE_COMMAND}" --build "${consumer_build}" --config "${CONFIG}" --parallel 2)

# (4) Where did <interlock/...> come from? The compiler's dependency file (GCC
# and Clang with the Makefile generator) names every header main.cpp read.
file(GLOB_RECURSE depfiles "${consumer_build}/CMakeFiles/consumer.dir/*main.cpp.o.d")
if(depfiles)
  list(GET depfiles 0 depfile)
  file(READ "${depfile}" deps)
  string(REPLACE "\\\n" " " deps "${deps}")
  string(REGEX REPLACE "[ \t\r\n]+" ";" deps "${deps}")
  set(seen_main_header FALSE)
  foreach(dep IN LISTS deps)
    if(dep MATCHES "interlock/(runtime|actors|persistence)/")
      cmake_path(NORMAL_PATH dep OUTPUT_VARIABLE dep_norm)
      string(FIND "${dep_norm}" "${prefix}/include/interlock/" at)
      if(NOT at EQUAL 0)
        message(FATAL_ERROR
          "[install test] the consumer compiled against ${dep}, which is not in the prefix ${prefix}\n"
          "(dependency file: ${depfile})")
      endif()
      if(dep_norm STREQUAL installed_header)
        set(seen_main_header TRUE)
      endif()
    endif()
  endforeach()
  if(NOT seen_main_header)
    message(FATAL_ERROR
      "[install test] ${depfile} does not list ${installed_header}:\n${deps}")
  endif()
  message(STATUS "[install test] headers checked: <interlock/runtime/interlock.hpp> came from ${installed_header}")
else()
  message(STATUS "[install test] no compiler dependency file (generator ${GENERATOR}): "
                 "relying on the consumer's configure-time checks of interlock_DIR and include dirs")
endif()

# (5) Run it: it exits 0 only if the query returned the right answer.
set(consumer_exe "${consumer_build}/bin/consumer")
if(NOT EXISTS "${consumer_exe}" AND EXISTS "${consumer_exe}.exe")
  set(consumer_exe "${consumer_exe}.exe")
endif()
if(NOT EXISTS "${consumer_exe}")
  message(FATAL_ERROR "[install test] the consumer build produced no ${consumer_exe}")
endif()
run_step("run consumer" COMMAND "${consumer_exe}" TIMEOUT 120 OUTPUT_VARIABLE run_output)
message(STATUS "[install test] consumer output:\n${run_output}")
# (6) The debug console, linked from the installed interlock::debug.
run_step("run consumer_debug" COMMAND "${consumer_build}/bin/consumer_debug" "${WORK_DIR}/debug.db" TIMEOUT 120
         OUTPUT_VARIABLE debug_output)
message(STATUS "[install test] consumer_debug output:\n${debug_output}")
message(STATUS "[install test] PASSED")
