# CLI11::CLI11 (header-only; Debian: libcli11-dev) for the journal tool and
# the debug console: its CMake package if it has one, else its headers.
# Sets INTERLOCK_HAVE_CLI11.
find_package(CLI11 CONFIG QUIET)
if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
  if(CLI11_INCLUDE_DIR)
    add_library(CLI11::CLI11 INTERFACE IMPORTED)
    target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
  endif()
endif()
if(TARGET CLI11::CLI11)
  set(INTERLOCK_HAVE_CLI11 ON)
else()
  set(INTERLOCK_HAVE_CLI11 OFF)
endif()
