# interlock_public_headers(OUT ROOT HEADER...): the headers a user's code can
# reach from the public ones given (paths relative to ROOT, the source root):
# them and every <interlock/...> header they include, transitively. Only these
# are installed, so the installed tree is the API and what it needs, not the
# runtime's internals.
function(interlock_public_headers out root)
  set(todo ${ARGN})
  set(seen "")
  while(todo)
    list(POP_FRONT todo header)
    if(header IN_LIST seen)
      continue()
    endif()
    if(NOT EXISTS "${root}/${header}")
      message(FATAL_ERROR "public header ${header} does not exist")
    endif()
    list(APPEND seen "${header}")
    # A new #include in a public header changes the list: configure again then.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${root}/${header}")
    file(STRINGS "${root}/${header}" lines REGEX "^#include <interlock/")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^#include <interlock/([^>]+)>.*" "\\1" included "${line}")
      list(APPEND todo "${included}")
    endforeach()
  endwhile()
  list(SORT seen)
  set(${out} "${seen}" PARENT_SCOPE)
endfunction()
