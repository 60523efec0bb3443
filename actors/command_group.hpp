// What an aggregate actor hands the journal writer: a batch of its commands,
// run back to back, with the events they emitted. Internal to
// actors/aggregate_actor.cpp and actors/journal_writer.cpp.
//
// The writer answers the commands' callers itself, in order, once the events
// they rest on are stored: the aggregate actor never waits for its appends,
// and a command costs one message less. What the writer cannot answer goes
// back to the aggregate (rerun_atom):
//   - from the first command whose append failed on, every command of the
//     group, the failed one first with its error;
//   - every command of the aggregate's later groups, until the aggregate
//     syncs (sync_atom): they ran on the events that failed.
// The aggregate reruns them, in order, once it has synced and rebuilt its
// state. A group that reaches neither (the writer or the aggregate stopped)
// answers its commands itself when it is destroyed.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>

#include <interlock/actors/command_queue.hpp>
#include <interlock/persistence/journal.hpp>
#include <interlock/runtime/detail/erased_messages.hpp>

namespace interlock::detail {

inline constexpr std::size_t no_request = std::numeric_limits<std::size_t>::max();

/// One command of a group and what became of it when it ran.
struct group_entry {
  queued_command q;
  caf::error error;                 // rejected: its caller gets this
  erased_reply reply;               // else this, once `request` (if any) is stored
  std::size_t request = no_request; // its events' request in command_group::requests
};

/// Answers `e` through `rp` (its own promise, or one in the writer's name):
/// its error, or its reply.
inline void deliver(caf::response_promise& rp, group_entry& e) {
  if (e.error) rp.deliver(std::move(e.error));
  else rp.deliver(std::move(e.reply));
}

/// Contract: whoever answers an entry, or takes it, leaves its promise empty.
/// A group destroyed with entries unanswered (a message to an actor that has
/// stopped is dropped with its group) answers them with errc::unavailable, so
/// no caller waits for a reply that cannot come.
struct command_group {
  caf::actor aggregate;                  // where the writer hands back what it cannot answer
  std::vector<append_request> requests;  // one per command with events, consecutive expected versions
  std::vector<group_entry> entries;      // in the order they ran

  command_group() = default;
  command_group(const command_group&) = delete;
  command_group& operator=(const command_group&) = delete;
  ~command_group();
};

using command_group_ptr = std::shared_ptr<command_group>;

}  // namespace interlock::detail
