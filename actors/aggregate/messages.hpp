// The messages only an aggregate actor receives. Internal to actors/aggregate/.
#pragma once

#include <caf/atom.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <interlock/actors/aggregate/command_batch.hpp>

namespace interlock {

// (command_batch_ptr, first, error): the writer could not answer the batch's
// commands from `first` on (actors/aggregate/command_batch.hpp); a sync batch
// comes back this way too.
using handed_back_atom = caf::atom_constant<caf::atom("handback")>;
// (): a sync batch was dropped unsent: the writer has stopped.
using sync_lost_atom = caf::atom_constant<caf::atom("synclost")>;
// () -> string: the actor's phase ("recovering", "running", ...), for tests
// and debugging tools.
using phase_atom = caf::atom_constant<caf::atom("phase")>;
// (), to the router: the sender's recovery failed (the journal did not
// answer); passivate it, so the next commands go to a fresh actor.
using retire_atom = caf::atom_constant<caf::atom("retire")>;

}  // namespace interlock

// Local-only: it carries callers' promises, not a serialisable value.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::command_batch_ptr)
