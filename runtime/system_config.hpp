#pragma once

#include <caf/fwd.hpp>

namespace interlock {

/// Applies the scheduler settings measured best for this runtime: one worker
/// thread per core (CAF's default of at least 4 loses to 2 on a 2-core
/// machine), and idle workers that, after a short spin, sleep on their
/// condition variable until work is enqueued for them, instead of CAF's
/// 12.5 ms of polling with sleeps of 50 us. Those polls woke a worker tens of
/// thousands of times a second beside the journal's own threads: a recovery
/// read that shared a core with a polling worker took 2-3x as long
/// (bench/README.md: cold).
/// Call before constructing the actor_system; later cfg.set() calls override it.
void tune(caf::actor_system_config& cfg);

}  // namespace interlock
