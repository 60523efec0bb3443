// Time travel: an aggregate's state as it was, loaded read-only from the
// journal (its newest snapshot within the bound, then the events up to it),
// without touching the live actor.
//
//   auto then = app->load_as_of<BankAccount>(id, interlock::as_of::version(3));
//   auto at   = app->load_as_of<BankAccount>(id, interlock::as_of::time(some_time_point));
//   then->state.balance; then->last->version;  // the last event applied
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include <interlock/core/event_envelope.hpp>

namespace interlock {

/// Which events to include: those with stream version <= max_version and
/// recorded at or before max_recorded_at_us (microseconds since the Unix epoch, UTC).
struct as_of {
  std::uint64_t max_version = std::numeric_limits<std::uint64_t>::max();
  std::int64_t max_recorded_at_us = std::numeric_limits<std::int64_t>::max();

  static as_of latest() { return {}; }
  static as_of version(std::uint64_t v) { return {v, std::numeric_limits<std::int64_t>::max()}; }
  static as_of time(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    return {std::numeric_limits<std::uint64_t>::max(), duration_cast<microseconds>(t.time_since_epoch()).count()};
  }
};

/// The loaded state and the envelope of the last event it includes (nullopt
/// when it includes none: the stream is empty before the bound).
template <class T>
struct state_as_of {
  T state;
  std::optional<event_envelope> last;
};

}  // namespace interlock
