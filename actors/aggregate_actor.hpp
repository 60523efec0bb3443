// One actor per (aggregate type, id). It recovers its state from the journal
// before its first command, then runs commands strictly one at a time: the next
// command starts only after the previous one's events are committed (or it was
// rejected). A rejected command changes nothing; a failed append re-reads the
// stream's tail before the next command so the state matches the journal.
//
// Messages: (erased_command) -> erased_reply | error
//           (passivate_atom): stop; sent by the router after the last command
//           it routed here, so everything before it is served first.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/actor.hpp>

#include <interlock/runtime/detail/aggregate_model.hpp>
#include <interlock/runtime/middleware.hpp>

namespace interlock {

struct aggregate_context {
  caf::actor writer;
  caf::actor reader;
  std::chrono::milliseconds journal_timeout{30'000};
  std::size_t read_batch = 4096;
  detail::snapshot_settings snapshots;
  std::chrono::milliseconds passivate_after{300'000};  // 0: never
  std::size_t max_live = 100'000;                       // 0: no cap
  std::size_t conflict_retries = 3;                     // reload + rerun after a conflicting append
  std::vector<std::shared_ptr<command_middleware>> middleware;  // run by the router around every command
};

caf::actor spawn_aggregate_actor(caf::local_actor* parent, std::shared_ptr<const detail::aggregate_kind> kind,
                                 std::string id, aggregate_context ctx);

}  // namespace interlock
