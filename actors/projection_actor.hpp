// One actor per registered projection. On start it subscribes to the journal
// writer, then catches up by reading the journal from its position; live events
// queue behind the catch-up, so each committed event is applied exactly once,
// in global order. Told by the writer that the journal grew beyond its
// position (another process appended: head_atom), it catches up again, the
// same way. Queries wait until catch-up is done, and a query with
// `after = p` waits until position p is applied (read-your-writes).
// An event that cannot be decoded or applied puts the projection in a failed
// state: every query then gets that error (nothing is skipped silently).
// A projection type with `snapshot_every` starts from its stored read-model
// snapshot and applies only the journal after it (actors/projection_checkpoint.cpp).
//
// Messages: (erased_query) -> erased_answer | error
//           (rebuild_atom) -> unit: a new read model from position 0, swapped in once
//             caught up (projection_rebuild.cpp; durable: new tables beside the
//             old, projection_durable_rebuild.cpp; processes: emptied and refilled)
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include <interlock/actors/projection_progress.hpp>
#include <interlock/actors/aggregate/aggregate_actor.hpp>
#include <interlock/model/projection_instance.hpp>

namespace interlock {

/// `store` is the read store actor (actors/read_store_actor.hpp), where a
/// projection that keeps snapshots keeps them; `progress` is the projection's
/// status, kept up to date for application::status().
caf::actor spawn_projection_actor(caf::actor_system& sys, std::shared_ptr<const detail::projection_kind> kind,
                                  aggregate_context ctx, caf::actor store,
                                  std::shared_ptr<detail::projection_progress> progress);

}  // namespace interlock
