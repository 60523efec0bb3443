// The read store actor: serves projections' checkpoints on its own thread and
// connection (persistence/read_store.hpp), so that a snapshot being written
// never holds up a scheduler thread or the journal.
//
// Messages: (checkpoint_load_atom, name) -> checkpoint_ptr (null: none)
//           (checkpoint_save_atom, name, checkpoint_ptr) -> unit
//           (checkpoint_drop_atom, name) -> unit
// Saves sent before the actor is told to stop are stored before it stops.
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include <interlock/persistence/read_store.hpp>

namespace interlock {

caf::actor spawn_read_store_actor(caf::actor_system& sys, std::unique_ptr<read_store> store);

}  // namespace interlock
