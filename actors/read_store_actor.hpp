// The read store actor: the read side's own thread and connection
// (persistence/read_store.hpp). It keeps projections' checkpoints, and it
// runs durable read models: their tables live in the read store, so their
// handlers run here, each chunk of events in one transaction with the
// checkpoint it reaches (exactly once, whatever crashes). It reads the journal
// on a connection of its own for their catch-up.
//
// Messages: (checkpoint_load_atom, name) -> checkpoint_ptr (null: none)
//           (checkpoint_save_atom, name, checkpoint_ptr) -> unit
//           (checkpoint_drop_atom, name) -> unit
//           (durable_open_atom, instance_ptr, name) -> position: attaches the
//             instance to the store, creates its tables, reads its checkpoint
//           (catchup_atom, catchup_job) -> (): applies the journal after
//             job.position to a durable read model, `chunk` events a transaction
//             (a job.shadow: to the read model's rebuild, in its shadow store)
//           (shadow_open_atom, instance_ptr, name) -> unit: a rebuild of the
//             read model begins beside its tables: a shadow store (a scratch
//             file), its tables made by the instance's create()
//           (shadow_swap_atom, catchup_job) -> position: the shadow catches up
//             with the tables in use, then replaces them and sets the
//             checkpoint in one transaction; the shadow is dropped either way
//           (durable_apply_atom, instance_ptr, name, events, after, through)
//             -> through: live events of positions (after, through] (the
//             others passed over), in one transaction that moves the
//             checkpoint from `after` (else refused) to `through`
//           (durable_query_atom, instance_ptr, name, query) -> erased_answer
//           (park_atom, name, parked_event) -> unit; (parked_atom, name) ->
//             vector<parked_event>; (unpark_atom, name, position) -> unit
//           (durable_replay_atom, instance_ptr, name, event) -> unit: applies a
//             parked event and unparks it, in one transaction
//           (durable_move_atom, name, position) -> unit: sets its checkpoint
//           (durable_reset_atom, instance_ptr, name) -> unit: empties its
//             tables and forgets its checkpoint, in one transaction (a
//             process's rebuild, in place)
//           (store_job_atom, instance_ptr, store_job_ptr) -> unit: a process's
//             step (actors/process_driver.hpp), in one transaction
// Every transaction a read model's handlers ran in ends with its
// transaction_ended(committed): processes then hand on what they decided.
// Saves sent before the actor is told to stop are stored before it stops.
#pragma once

#include <atomic>
#include <memory>

#include <caf/fwd.hpp>

#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/read_store.hpp>
#include <interlock/persistence/upcaster.hpp>

namespace interlock {

/// `stopping` is set when the application stops: a durable catch-up then ends
/// at its next chunk, so the projection awaiting it can stop too.
caf::actor spawn_read_store_actor(caf::actor_system& sys, std::unique_ptr<read_store> store,
                                  std::unique_ptr<journal> log, std::size_t chunk,
                                  std::shared_ptr<const upcaster_chain> upcasters,
                                  std::shared_ptr<std::atomic<bool>> stopping);

}  // namespace interlock
