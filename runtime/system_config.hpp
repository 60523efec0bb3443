#pragma once

#include <caf/fwd.hpp>

namespace interlock {

/// Applies the scheduler settings measured best for this runtime: one worker
/// thread per core (CAF's default of at least 4 loses to 2 on a 2-core machine)
/// and a 1 us timer slack on CAF's threads (Linux's 50 us default stretches
/// each 50 us sleep of an idle worker's polling by up to as much again).
/// Idle workers keep CAF's 50 us polling interval: 10 us was measured better
/// once, but with commands sent straight to aggregates the extra wake-ups cost
/// more CPU than they save (both cores are busy under load).
/// Call before constructing the actor_system; later cfg.set() calls override it.
void tune(caf::actor_system_config& cfg);

}  // namespace interlock
