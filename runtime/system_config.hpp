#pragma once

#include <caf/fwd.hpp>

namespace interlock {

/// Applies the scheduler settings measured best for this runtime: one worker
/// thread per core (CAF's default of at least 4 loses to 2 on a 2-core machine)
/// and a 1 us timer slack on CAF's threads (Linux's 50 us default stretches
/// each 50 us sleep of an idle worker's polling by up to as much again).
/// Idle workers poll every 25 us instead of CAF's 50 us: a batch that comes
/// back from the journal's commit thread waits less for a worker to notice it; 10 us
/// cost more in wake-ups than it saved (measured in bench/README.md).
/// Call before constructing the actor_system; later cfg.set() calls override it.
void tune(caf::actor_system_config& cfg);

}  // namespace interlock
