#include <interlock/runtime/detail/blocking_call.hpp>

#include <pthread.h>

#include <string>

#include <interlock/core/errors.hpp>

namespace interlock::detail {

// CAF 0.17 names each scheduler worker "caf.multiplexer" when it starts
// (caf/scheduler/worker.hpp), before it runs any actor; a detached actor has
// a thread of its own ("caf.actor"), where blocking holds up nobody else.
bool on_scheduler_thread() {
  thread_local const bool answer = [] {
    char name[16] = {};
    return pthread_getname_np(pthread_self(), name, sizeof name) == 0 && std::string_view{name} == "caf.multiplexer";
  }();
  return answer;
}

caf::error refuse_on_scheduler_thread(std::string_view call, std::string_view instead) {
  if (!on_scheduler_thread()) return {};
  std::string message{call};
  message.append(" blocks until its answer, and was called on a scheduler thread of the actor system (inside an "
                 "actor or one of its handlers), where waiting can hang every actor: ")
      .append(instead);
  return make_error(errc::invalid_argument, std::move(message));
}

}  // namespace interlock::detail
