// What a projection has done so far, in atomics, so that
// application::status() reads it from any thread without a message: a
// projection whose actor waits for a long catch-up still reports. Written by
// the projection's actor and, while it catches up, by the journal reader's
// threads. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace interlock::detail {

struct projection_progress {
  enum class phase : int { catching_up, live, failed, paused, rebuilding };  // as projection_status::phase

  std::atomic<phase> state{phase::catching_up};
  std::atomic<bool> rebuilding{false};  // a new read model is built beside this one: status says rebuilding
  std::atomic<std::uint64_t> position{0};  // last global position applied
  std::atomic<std::uint64_t> head{0};      // newest position known to be in the journal
  std::atomic<std::int64_t> head_recorded_us{0};  // its recorded time, 0: not known
  std::atomic<std::int64_t> last_recorded_us{0};  // recorded time of the event at `position`
  std::atomic<std::uint64_t> applied{0};          // events applied since the (re)start
  std::atomic<std::int64_t> started_ns{0};        // steady clock of the (re)start
  std::atomic<std::size_t> waiting_queries{0};
  std::atomic<std::uint64_t> checkpoint{0};       // position of the last checkpoint stored, 0: none
  std::atomic<std::size_t> parked{0};              // events parked (poison_policy::park), not replayed

  /// A read model that reflects the journal up to `from` (0: a new one; start, rebuild).
  void restart(std::uint64_t from = 0) {
    state = phase::catching_up;
    position = from;
    last_recorded_us = 0;
    applied = 0;
    started_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    set_failure({});
  }

  /// One event applied. One thread applies at a time (the actor, or the
  /// reader while it holds the catch-up), so plain relaxed stores do: no
  /// locked read-modify-write per event on the catch-up path.
  void applied_event(std::uint64_t pos, std::int64_t recorded_us) {
    position.store(pos, std::memory_order_relaxed);
    last_recorded_us.store(recorded_us, std::memory_order_relaxed);
    applied.store(applied.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (pos > head.load(std::memory_order_relaxed)) raise_head(pos, recorded_us);
  }

  /// Events up to `pos` passed over (not of its subscription), the last
  /// recorded at about `recorded_us`: the position moves, nothing is counted.
  void passed_over(std::uint64_t pos, std::int64_t recorded_us) {
    position.store(pos, std::memory_order_relaxed);
    if (recorded_us != 0) last_recorded_us.store(recorded_us, std::memory_order_relaxed);
  }

  /// The journal holds at least `pos`, recorded at `recorded_us` (0: not known).
  void raise_head(std::uint64_t pos, std::int64_t recorded_us) {
    auto old = head.load(std::memory_order_relaxed);
    while (pos > old && !head.compare_exchange_weak(old, pos, std::memory_order_relaxed)) {
    }
    if (pos >= old && recorded_us != 0) head_recorded_us.store(recorded_us, std::memory_order_relaxed);
  }

  void set_failure(std::string why) {
    std::lock_guard<std::mutex> lock{mutex_};
    failure_ = std::move(why);
  }
  std::string failure() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return failure_;
  }

 private:
  mutable std::mutex mutex_;
  std::string failure_;
};

}  // namespace interlock::detail
