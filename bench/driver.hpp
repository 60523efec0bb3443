// Drives commands through the runtime from CAF event-based actors
// (interlock::async_dispatch: nothing blocks a scheduler thread), keeping at
// most `window` commands in flight in all. window = 1 is one command at a time.
// The window is split over `drivers` actors because CAF 0.17 keeps an actor's
// pending responses in a flat map searched linearly: one actor with thousands
// of requests in flight would measure itself rather than the runtime.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/error.hpp>

namespace bench {

struct drive_outcome {
  double seconds = 0;                // first send to last reply
  std::vector<double> latencies_us;  // per command: send to reply
  std::size_t completed = 0;         // replies received (successes and failures)
  std::string error;                 // the first failure; no command is sent after it
};

/// Called on the driver actor when command i's reply arrives; an empty error is success.
using reply_fn = std::function<void(const caf::error&)>;
/// Sends command number i (0-based) from `self`, then calls `done` with its outcome.
using send_fn = std::function<void(caf::event_based_actor* self, std::size_t i, reply_fn done)>;

/// Sends commands 0..total-1, at most `window` in flight; driver k of n sends
/// commands k, k + n, k + 2n, ... in that order. Returns when all replies
/// arrived, or after the first failure once the others are back, or when no
/// reply arrived for `stall` (then error says so; replies still in flight are
/// abandoned). No command is sent after `until`: the run then ends once the
/// replies in flight are back, with `completed` < total and no error.
/// seconds: from the start to the last reply.
drive_outcome drive(caf::actor_system& sys, std::size_t total, std::size_t window, send_fn send,
                    std::size_t drivers = 1, std::chrono::seconds stall = std::chrono::seconds{120},
                    std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max());

/// Text for an interlock (or CAF) error.
std::string describe_error(const caf::error& err);

}  // namespace bench
