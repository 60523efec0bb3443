// The application's client actor: carries commands and queries submitted from
// ordinary threads (dispatch, dispatch_async, query) to the aggregate's live
// actor (found in `directory`) or the router, or to a projection, and completes their callbacks. It keeps at most `window`
// requests in flight (CAF's pending-response table degrades quadratically with
// more) and queues the rest in arrival order, so commands one thread submits
// to one aggregate arrive in that order.
//
// Messages: (command_job), (query_job)
#pragma once

#include <cstddef>
#include <memory>

#include <caf/fwd.hpp>

namespace interlock {

namespace detail {
class aggregate_directory;
class deadline_keeper;
}  // namespace detail

/// `deadlines` (owned by the application) times the commands out; `directory`
/// may be null (every command goes to the router).
caf::actor spawn_client_actor(caf::actor_system& sys, caf::actor router,
                              std::shared_ptr<detail::aggregate_directory> directory, std::size_t window,
                              detail::deadline_keeper* deadlines);

}  // namespace interlock
