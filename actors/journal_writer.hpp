// The journal writer actor: the single writer of the journal, a batch
// appender. It runs on CAF's scheduler and commits on a thread of its own
// (journal_committer.hpp), so SQLite's work and its fsync never hold a
// scheduler thread, and the two meet once per batch rather than once per job.
//
// Input: append jobs (actors/append_job.hpp), left in `inbox`
//        (actors/journal_inbox.hpp). The writer knows nothing of a job but
//        its requests: it commits them and calls the job's completion.
// Group commit: while a batch commits, the jobs that arrive are gathered
// (whole jobs, up to about max_batch requests); the next batch goes to the
// commit thread as soon as the last is done, before the last one's jobs are
// completed. With the commit thread idle, a batch goes once the jobs already
// queued are taken, or `wait` after its first request. After a commit the
// writer publishes the committed events, in global order, to every
// subscriber and only then completes the jobs, in the order it took them. A
// request that fails its checks fails alone (append_request::after_previous
// is the journal's own rule). Every job taken is completed, also when the
// application stops (the gathered ones are committed first).
//
// Messages: (drain_atom): jobs wait in the inbox.
//           (subscribe_atom, actor) -> uint64 last published position; later
//             commits arrive as (events_atom, vector<stored_event>).
//           (head_atom, uint64): the journal holds that position (another
//             process appended; actors/journal_follower.hpp). Beyond what it
//             published, the writer passes it on to its subscribers as is.
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
