// What a projection actor holds (actors/projection_actor.cpp), shared with the
// file that keeps its checkpoint (actors/projection_checkpoint.cpp). Internal.
#pragma once

#include <memory>
#include <vector>

#include <caf/all.hpp>

#include <interlock/actors/aggregate/aggregate_actor.hpp>
#include <interlock/actors/messages.hpp>

namespace interlock::detail {

struct parked_query {
  std::uint64_t ticket;
  erased_query query;
  caf::typed_response_promise<erased_answer> promise;
};

/// A read model being rebuilt beside the one in use (actors/projection_rebuild.cpp;
/// a durable one's tables are in the read store's shadow, actors/read_store_shadow.cpp).
struct shadow_build {
  std::shared_ptr<projection_instance> instance;
  std::uint64_t position = 0;  // what it has applied
};

struct projection_state {
  std::shared_ptr<const projection_kind> kind;
  aggregate_context ctx;
  caf::actor store;                                 // the read store: checkpoints
  std::shared_ptr<projection_instance> instance;  // shared with the reader while it catches up
  std::shared_ptr<projection_progress> progress;  // what application::status() reads
  event_envelope scratch;
  std::uint64_t position = 0;  // last global position applied
  caf::error failure;
  std::vector<parked_query> parked;
  std::uint64_t next_ticket = 0;
  bool catching_up = false;  // a catch-up job is with the reader (awaited)
  bool paused = false;       // applies nothing until resumed (application::pause)
  // Poison events (actors/projection_poison.cpp).
  std::uint64_t poison_position = 0;  // the event a handler failed on, being retried (0: none)
  std::uint32_t poison_attempts = 0;  // the failed attempts at it
  bool poison_wait = false;           // waiting to retry it: live events are read from the journal after
  std::uint64_t skip_position = 0;    // a parked event the next catch-up passes over (0: none)
  std::pair<std::uint64_t, std::uint64_t> failed_chunk{0, 0};  // durable: positions of a live chunk that failed
  // A catch-up whose request timed out. The reader may still be applying it
  // to `instance`, so the instance and `position` are not ours again until
  // the reader has let go of the job (see settled()).
  std::shared_ptr<catchup_job> abandoned;
  // Checkpoints (actors/projection_checkpoint.cpp).
  std::uint64_t saved_position = 0;  // of the last checkpoint stored or loaded
  bool saving = false;               // a save is with the read store
  std::uint64_t generation = 0;      // bumped by a rebuild: saves of the read model before it are stale
  // Durable read models (actors/projection_durable.cpp): live events go to the
  // read store in chunks, one in flight at a time.
  std::vector<stored_event> pending;   // live events not yet sent
  std::uint64_t sent_position = 0;     // the last position sent to the read store (or passed over)
  std::int64_t last_passed_over_us = 0;  // recorded time of the last event not of its subscription
  bool applying = false;               // a chunk is with the read store
  bool catch_up_after_apply = false;   // a gap or a query wants the journal read once it is back
  // A rebuild (actors/projection_rebuild.cpp, projection_durable_rebuild.cpp):
  // the shadow and the callers waiting for its swap.
  std::shared_ptr<shadow_build> shadow;
  std::vector<caf::response_promise> rebuild_waiters;
  static inline const char* name = "interlock.projection";
};

using projection_self = caf::stateful_actor<projection_state>*;

/// True once no catch-up that timed out can still touch the instance.
bool settled(projection_self self);

// actors/projection_actor.cpp
/// Stops the projection with `err`: every query gets it from now on.
void fail(projection_self self, caf::error err);
/// Answers the parked queries whose position is reached (all, once failed).
void answer_parked(projection_self self);
/// Reads the journal after the projection's position (see projection_actor.cpp).
void catch_up(projection_self self);

// actors/projection_durable.cpp: read models in the read store's tables
/// Creates the tables and reads the position the read model is at, then catches up.
void open_durable_then_catch_up(projection_self self);
/// Sends live events after what was sent to the read store, in order; a
/// gap means reading the journal.
void queue_durable(projection_self self, const std::vector<stored_event>& events);
/// Asks the read store, where the tables are; the answer goes to `rp`.
void answer_durable(projection_self self, const erased_query& q, caf::typed_response_promise<erased_answer> rp);
/// Empties the tables and catches up from position 0, in place (processes).
caf::result<void> rebuild_durable(projection_self self);
/// Sets the tables' checkpoint to `position` (a reset of a paused projection).
caf::result<void> move_durable(projection_self self, std::uint64_t position);

// actors/projection_poison.cpp: events a handler fails on
/// A handler failed on `e` with `err`: it is tried again after a backoff, up
/// to the type's poison_retries, then the projection stops or parks it.
void poisoned(projection_self self, const stored_event& e, const caf::error& err);
/// The backoff is over: read the journal from the failed event again.
void retry_poisoned(projection_self self);
/// Applies a parked event now (out of order) and unparks it.
caf::result<void> replay_parked(projection_self self, std::uint64_t position);
/// Reads how many events the projection has parked, for status().
void count_parked_events(projection_self self);

// actors/projection_rebuild.cpp: a read model in memory rebuilt beside the old one
/// Builds a new read model from position 0 while the old one serves, then
/// swaps it in; answered once swapped.
caf::result<void> rebuild_in_shadow(projection_self self);
/// The rebuild under way did not finish: the shadow goes, the read model in
/// use stays, the callers of rebuild() get `err` (logged once).
void abandon_rebuild(projection_self self, caf::error err);
/// Answers the callers of rebuild(): the shadow is in place.
void rebuild_done(projection_self self);

// actors/projection_durable_rebuild.cpp: a durable read model rebuilt beside its tables
/// As rebuild_in_shadow(), the shadow's tables built by the read store in a
/// store of their own, and swapped in by it in one transaction.
caf::result<void> rebuild_durable_in_shadow(projection_self self);

// actors/projection_control.cpp: pause, resume, reset
caf::result<void> pause(projection_self self);
caf::result<void> resume(projection_self self);
caf::result<void> reset(projection_self self, std::uint64_t position);

/// Starts the read model from its checkpoint if the projection keeps
/// snapshots and has a usable one, else from position 0; then `catch_up`.
/// `journal_head` is the journal's last position when the projection subscribed.
void load_checkpoint_then(projection_self self, std::uint64_t journal_head);

/// Saves a read-model snapshot if `snapshot_every` events were applied since
/// the last one (and none is being saved).
void save_checkpoint_if_due(projection_self self);

/// On a clean stop: saves a snapshot of what was applied since the last one.
/// Sent, not requested: the read store stops after the projections, and
/// stores it first.
void save_final_checkpoint(projection_self self);

/// A rebuild: the stored checkpoint is stale. Forgets it.
void drop_checkpoint(projection_self self);

}  // namespace interlock::detail
