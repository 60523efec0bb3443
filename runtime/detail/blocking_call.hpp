// The application's blocking calls (dispatch, query, rebuild, load_as_of,
// live_aggregates) refuse to run on a worker thread of CAF's scheduler: there
// they would wait for a reply that needs that thread, or all of them, and
// could hang every actor for good. Internal.
#pragma once

#include <string_view>

#include <caf/error.hpp>

namespace interlock::detail {

/// True on a worker thread of an actor system's scheduler (where actors and
/// their handlers run); false on the program's own threads and on the threads
/// of detached actors.
bool on_scheduler_thread();

/// On a scheduler thread: errc::invalid_argument saying that `call` blocks and
/// what to use instead (`instead`). Elsewhere: no error.
caf::error refuse_on_scheduler_thread(std::string_view call, std::string_view instead);

}  // namespace interlock::detail
