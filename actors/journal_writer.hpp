// The journal writer actor: the single writer of the journal, on a thread of
// its own (SQLite calls never block CAF's scheduler threads).
//
// Group commit: it takes the first append, drains every append already queued
// or arriving within `wait` (up to max_batch) and commits them in one transaction, then publishes the
// committed events, in global order, to every subscriber and only then replies
// to each appender. A request that fails its expected-version check fails alone.
//
// Messages: (append_atom, vector<append_request>) -> vector<append_outcome>,
//             one per request: the requests of one aggregate's batch, committed
//             in the same transaction, in order (see append_request::after_previous)
//           (subscribe_atom, actor) -> uint64 last committed position; later
//           commits arrive as (events_atom, vector<stored_event>).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <caf/fwd.hpp>

#include <interlock/persistence/journal.hpp>

namespace interlock {

caf::actor spawn_journal_writer(caf::actor_system& sys, std::unique_ptr<journal> j, std::size_t max_batch,
                                std::chrono::microseconds wait);

}  // namespace interlock
