// One actor per (aggregate type, id). It recovers its state from the journal
// before its first command, then serves commands in arrival order, as if one
// at a time: a command runs on the state every command before it left.
//
// Its life is a few phases, each a behaviour in a file of its own under
// actors/aggregate/, switched with `become`; commands that come while the
// state is not current wait in line (actors/aggregate/command_queue.hpp):
//   recovering  the reader loads snapshot and stream; commands wait.
//   running     commands run in batches, sent to the writer without waiting
//               for their appends (each batch answers its own commands,
//               actors/aggregate/command_batch.hpp).
//   syncing     waits until the writer holds nothing more of this actor:
//               after a failed append (then recovering: the handed-back
//               commands rerun first), or before an idempotent command's
//               lookup; commands wait.
//   passivating the stop marker reached the front: stops once synced.
//   failed      recovery failed: every command gets the error.
// An exit (the application stops) refuses the commands in line and stops at
// once; batches in flight still answer theirs.
//
// Messages: (erased_command) -> erased_reply | error
//           (passivate_atom): stop once the commands received before it are
//           served; sent by the router after the last command it routed here.
//           (handed_back_atom, command_batch_ptr, first, error),
//           (sync_lost_atom): from a batch (actors/aggregate/messages.hpp).
// Sends:    (retire_atom) to the router when its recovery failed transiently.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include <interlock/model/aggregate_instance.hpp>
#include <interlock/model/middleware.hpp>

namespace interlock {

namespace detail {
class journal_inbox;
}  // namespace detail

struct aggregate_context {
  caf::actor writer;
  std::shared_ptr<detail::journal_inbox> inbox;  // where batches go to the writer
  caf::actor reader;
  std::chrono::milliseconds journal_timeout{30'000};
  std::size_t read_batch = 4096;
  detail::snapshot_settings snapshots;
  std::chrono::milliseconds passivate_after{300'000};  // 0: never
  std::size_t max_live = 100'000;                       // 0: no cap
  std::size_t conflict_retries = 3;                     // reload + rerun after a conflicting append
  std::vector<std::shared_ptr<command_middleware>> middleware;  // run by the router around every command
  // The router that spawned the actor: asked to retire it (retire_atom) when
  // its recovery failed for a journal that did not answer. None: it stops.
  caf::actor_addr router{};
};

caf::actor spawn_aggregate_actor(caf::local_actor* parent, std::shared_ptr<const detail::aggregate_kind> kind,
                                 std::string id, aggregate_context ctx);

}  // namespace interlock
