# cpp-httplib (Debian: libcpp-httplib-dev, 0.11) for the debug console's web
# view. Debian ships it compiled, as libcpp-httplib.so with a pkg-config file
# (no CMake package): the header alone declares, the library defines, and the
# pkg-config flags (CPPHTTPLIB_OPENSSL_SUPPORT, ...) must be the ones it was
# compiled with, so it is found through pkg-config only. Defines the imported
# target httplib::httplib and sets INTERLOCK_HAVE_HTTPLIB, and, for a target
# that must not take its flags everywhere (the tests: one file uses its
# client), INTERLOCK_HTTPLIB_CFLAGS_OTHER and INTERLOCK_HTTPLIB_LINK_LIBRARIES.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND AND NOT TARGET httplib::httplib)
  pkg_check_modules(INTERLOCK_HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
  if(INTERLOCK_HTTPLIB_FOUND)
    add_library(httplib::httplib INTERFACE IMPORTED)
    target_link_libraries(httplib::httplib INTERFACE PkgConfig::INTERLOCK_HTTPLIB)
  endif()
endif()
if(TARGET httplib::httplib)
  set(INTERLOCK_HAVE_HTTPLIB ON)
else()
  set(INTERLOCK_HAVE_HTTPLIB OFF)
endif()
