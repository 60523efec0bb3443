#pragma once

#include <caf/fwd.hpp>

namespace interlock {

/// Applies the scheduler settings measured best for this runtime: one worker
/// thread per core (CAF's default of at least 4 loses to 2 on a 2-core machine).
/// Call before constructing the actor_system; later cfg.set() calls override it.
void tune(caf::actor_system_config& cfg);

}  // namespace interlock
