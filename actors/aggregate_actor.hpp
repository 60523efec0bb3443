// One actor per (aggregate type, id). It recovers its state from the journal
// before its first command, then serves commands in arrival order, as if one
// at a time: a command runs on the state every command before it left.
//
// Batches: commands that arrive while an append is in flight wait; when it
// is answered they run back to back, each on the state after the one before
// (whose events are applied, not yet stored), and their events go to the
// writer as one group (one request per command, committed in one
// transaction). Every reply, a rejection included, goes out only once the
// events it rests on are stored. So a burst to one aggregate costs one append
// round trip per batch, not per command. If the append fails, the commands up
// to the failed one are answered, the state is reloaded, the failed one reruns
// after a conflict (or gets the error) and the ones after it run again.
// A command with an idempotency key runs alone (its key is looked up first).
// A rejected command changes nothing.
//
// Messages: (erased_command) -> erased_reply | error
//           (passivate_atom): stop once the commands received before it are
//           served; sent by the router after the last command it routed here.
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
