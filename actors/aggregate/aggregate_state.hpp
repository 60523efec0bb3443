// What an aggregate actor keeps across its phases, and the steps they share.
// Internal to actors/aggregate/: each phase's file includes this one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>

#include <interlock/actors/aggregate/aggregate_actor.hpp>
#include <interlock/actors/aggregate/command_batch.hpp>
#include <interlock/actors/aggregate/command_queue.hpp>

namespace interlock::detail {

struct aggregate_state {
  std::shared_ptr<const aggregate_kind> kind;
  std::string id;
  aggregate_context ctx;
  std::shared_ptr<aggregate_instance> instance;  // shared with the reader while it recovers
  command_queue waiting;                 // not run yet, in order (a stop marker among them)
  std::vector<queued_command> reruns;    // handed back, in order: first in line once reloaded
  std::shared_ptr<batch_chain> chain;    // the batches sent since the state was loaded
  bool chain_started = false;            // a batch of the chain holds requests: the next rest on it
  bool unsynced = false;                 // batches went to the writer since the last sync
  bool stale = false;                    // the instance holds events the journal may not: reload
  const command_batch* sync = nullptr;   // the sync batch waited for
  static inline const char* name = "interlock.aggregate";
};

using aggregate_self = caf::stateful_actor<aggregate_state>*;

// The phases (aggregate_actor.hpp): each enters its behaviour with `become`.
void start_recovering(aggregate_self self);   // recovering.cpp
void start_running(aggregate_self self);      // running.cpp
void start_syncing(aggregate_self self);      // syncing.cpp
void start_passivating(aggregate_self self);  // passivating.cpp
void start_failed(aggregate_self self, caf::error why, bool transient);  // failed.cpp

// Shared steps (aggregate_state.cpp).
std::string stream_of(aggregate_self self);
caf::error stopping_error(aggregate_self self);

/// Puts a command at the back of the line; its caller waits on the promise returned.
caf::response_promise enqueue(aggregate_self self, erased_command& cmd);

/// Puts the stop marker at the back of the line.
void enqueue_stop(aggregate_self self);

/// Hands `b` to the writer. False if the writer has stopped (`b` is dropped).
bool send_batch(aggregate_self self, command_batch_ptr b);

/// Once the writer holds nothing of this actor, runs `then`: at once if no
/// batch may be in flight (or the writer has stopped), else when the sync
/// batch is back, in phase `phase` (commands wait in line meanwhile).
void sync_then(aggregate_self self, const char* phase, std::function<void()> then);

/// Once synced: a stale state is reloaded (recovering), else the line is served (running).
void resume(aggregate_self self);

/// Answers every command in line, and every one handed back, with `why`.
void refuse_all(aggregate_self self, const caf::error& why);

/// Takes back what the writer handed back: the commands of `b` from `first`
/// on, the first one's append failed with `err` (if set). The state is stale.
void take_back(aggregate_self self, command_batch& b, std::size_t first, const caf::error& err);

/// The behaviour of phase `phase`, in which commands wait in line; `on_sync`
/// runs when the sync batch waited for is back (or lost).
caf::behavior waiting_behavior(aggregate_self self, const char* phase, std::function<void()> on_sync);

}  // namespace interlock::detail
