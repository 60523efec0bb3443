# The malloc the executables of this project run with (samples, benchmark).
#
# The library never picks one: malloc is process-wide, so it is the
# application's choice. The command path allocates a few dozen small blocks
# per command on one thread and frees many of them on another, where glibc's
# malloc is slow; with tcmalloc the bank benchmark runs about 15% faster
# (bench/README.md, "The allocator"). An application gets the same by linking
# it: target_link_libraries(app PRIVATE tcmalloc_minimal).
#
#   interlock_use_allocator(<target>)  links INTERLOCK_ALLOCATOR into <target>
#
# INTERLOCK_ALLOCATOR: tcmalloc (Debian: libgoogle-perftools-dev), jemalloc
# (libjemalloc-dev), mimalloc (libmimalloc-dev) or system. One that is not
# installed falls back to the system malloc with a warning; the benchmark
# prints which malloc it runs with.

set(INTERLOCK_ALLOCATOR "tcmalloc" CACHE STRING
    "malloc for the samples and the benchmark: tcmalloc, jemalloc, mimalloc or system")
set_property(CACHE INTERLOCK_ALLOCATOR PROPERTY STRINGS tcmalloc jemalloc mimalloc system)

set(_interlock_allocator_names_tcmalloc tcmalloc_minimal)
set(_interlock_allocator_names_jemalloc jemalloc)
set(_interlock_allocator_names_mimalloc mimalloc)

set(INTERLOCK_ALLOCATOR_LIBRARY "")
if(NOT INTERLOCK_ALLOCATOR STREQUAL "system")
  if(NOT DEFINED _interlock_allocator_names_${INTERLOCK_ALLOCATOR})
    message(FATAL_ERROR "INTERLOCK_ALLOCATOR=${INTERLOCK_ALLOCATOR}: expected tcmalloc, jemalloc, mimalloc or system")
  endif()
  find_library(INTERLOCK_ALLOCATOR_LIBRARY_${INTERLOCK_ALLOCATOR}
               NAMES ${_interlock_allocator_names_${INTERLOCK_ALLOCATOR}})
  set(INTERLOCK_ALLOCATOR_LIBRARY "${INTERLOCK_ALLOCATOR_LIBRARY_${INTERLOCK_ALLOCATOR}}")
  if(INTERLOCK_ALLOCATOR_LIBRARY)
    message(STATUS "Samples and benchmark link ${INTERLOCK_ALLOCATOR}: ${INTERLOCK_ALLOCATOR_LIBRARY}")
  else()
    message(WARNING "INTERLOCK_ALLOCATOR=${INTERLOCK_ALLOCATOR} is not installed (scripts/setup-debian.sh "
                    "installs tcmalloc); the samples and the benchmark use the system malloc")
  endif()
endif()

function(interlock_use_allocator target)
  if(INTERLOCK_ALLOCATOR_LIBRARY)
    # Nothing references the allocator by name: keep it even under --as-needed.
    target_link_libraries(${target} PRIVATE "-Wl,--push-state,--no-as-needed" "${INTERLOCK_ALLOCATOR_LIBRARY}"
                                            "-Wl,--pop-state")
  endif()
endfunction()
