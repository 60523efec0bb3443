// The journal writer actor: the single writer of the journal. It runs on
// CAF's scheduler and commits on a thread of its own (journal_committer.hpp),
// so SQLite's work and its fsync never hold a scheduler thread, and the two
// meet once per batch rather than once per append.
//
// Group commit: while a batch commits, the appends that arrive are gathered
// (whole groups, up to about max_batch requests); the next batch goes to the
// commit thread as soon as the last is done, before the last one's appenders
// are answered. With the commit thread idle, a batch goes once the appends
// already queued are taken, or `wait` after its first append. After a commit
// the writer publishes the committed events, in global order, to every
// subscriber and only then answers. A request that fails its expected-version
// check fails alone. Every group taken is answered, also when the
// application stops (the gathered ones are committed first).
//
// Input: command groups, an aggregate's commands and their events
//        (actors/command_group.hpp), left in `inbox` (actors/journal_inbox.hpp).
//        The writer answers the commands' callers itself, in order, once what
//        they rest on is stored; from the first whose append failed on, it
//        hands them back to the aggregate: (rerun_atom, group, first, error).
// Messages: (drain_atom): groups wait in the inbox.
//           (sync_atom) -> (): answered once the groups the sender left
//             before are answered or handed back.
//           (subscribe_atom, actor) -> uint64 last published position; later
//             commits arrive as (events_atom, vector<stored_event>).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <caf/fwd.hpp>

#include <interlock/persistence/journal.hpp>

namespace interlock::detail {
class journal_inbox;
}  // namespace interlock::detail

namespace interlock {

caf::actor spawn_journal_writer(caf::actor_system& sys, std::unique_ptr<journal> j,
                                std::shared_ptr<detail::journal_inbox> inbox, std::size_t max_batch,
                                std::chrono::microseconds wait);

}  // namespace interlock
