// One actor per (aggregate type, id). It recovers its state from the journal
// before its first command, then serves commands in arrival order, as if one
// at a time: a command runs on the state every command before it left.
//
// Batches: the commands waiting when the actor gets to them run back to back,
// each on the state after the one before (whose events are applied as soon as
// it runs, before they are stored), and their events go to the writer as one
// group (one request per command, committed in one transaction), left in the
// writer's inbox (actors/journal_inbox.hpp).
// Pipelining: the actor does not wait for that append. It hands the group,
// with the callers' promises, to the writer (actors/command_group.hpp), which
// answers the callers once the events each reply rests on are stored, in
// order, a rejection included. The next commands run at once on the state it
// left and go out as the next group, flagged to rest on it
// (append_request::after_previous), so a command joins the next group commit
// instead of the one after. An event whose apply() throws rejects its command
// before anything of it is stored. If an append fails, the writer hands the
// commands from the failed one on back (and those of later groups); once the
// writer holds nothing more of this actor (a sync), the state is rebuilt and
// the failed command reruns after a conflict (or gets the error), followed by
// all the ones after it. A command with an idempotency key runs alone, once
// synced (its key is looked up first). A rejected command changes nothing.
// Stopping (exit or passivation) also waits for a sync.
//
// Messages: (erased_command) -> erased_reply | error
//           (passivate_atom): stop once the commands received before it are
//           served; sent by the router after the last command it routed here.
//           (rerun_atom, command_group_ptr, first, error): from the writer,
//           the commands it could not answer.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/actor.hpp>

#include <interlock/runtime/detail/aggregate_model.hpp>
#include <interlock/runtime/middleware.hpp>

namespace interlock {

namespace detail {
class journal_inbox;
}  // namespace detail

struct aggregate_context {
  caf::actor writer;
  std::shared_ptr<detail::journal_inbox> inbox;  // where command groups go to the writer
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
