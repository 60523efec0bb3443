// A ledger whose state (total + history) is JSON-serialisable, for the
// snapshot, time-travel and passivation tests. It declares no snapshot policy
// of its own, so runtime_settings decide; SnappyLedger declares one.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <interlock/runtime/interlock.hpp>

namespace testledger {

struct Add {  // emits `times` events of `amount` each
  using result_type = std::int64_t;
  std::int64_t amount = 0;
  int times = 1;
};
struct Describe {  // emits nothing: the live state as text (field-less: encoded as {})
  using result_type = std::string;
};
struct Pause {  // emits nothing: holds its actor (and a scheduler thread) for `ms`
  using result_type = std::string;
  int ms = 0;
};
struct Added {
  std::int64_t amount = 0;
};
INTERLOCK_JSON(Add, amount, times)
INTERLOCK_JSON(Added, amount)
INTERLOCK_JSON(Pause, ms)

template <class Self>
struct ledger_base : interlock::aggregate<Self> {
  using commands = interlock::types<Add, Describe, Pause>;
  using events = interlock::types<Added>;

  std::int64_t total = 0;
  std::vector<std::int64_t> history;

  std::int64_t handle(const Add& c) {
    if (c.amount == 0) throw interlock::rejected{"amount must not be zero"};
    for (int i = 0; i < c.times; ++i) this->emit(Added{c.amount});
    return total + c.amount * c.times;
  }
  std::string handle(const Describe&) const { return text(); }
  std::string handle(const Pause& c) const {
    std::this_thread::sleep_for(std::chrono::milliseconds(c.ms));
    return text();
  }
  void apply(const Added& e) {
    total += e.amount;
    history.push_back(e.amount);
  }
  std::string text() const {
    std::string s = "v" + std::to_string(this->version()) + " total " + std::to_string(total) + " [";
    for (auto h : history) s += std::to_string(h) + ",";
    return s + "]";
  }
};

struct Ledger : ledger_base<Ledger> {};
INTERLOCK_JSON(Ledger, total, history)

struct SnappyLedger : ledger_base<SnappyLedger> {  // its own policy: every 4 events, keep 3
  static constexpr std::uint64_t snapshot_every = 4;
  static constexpr std::size_t snapshot_keep = 3;
  static constexpr std::uint32_t state_version = 2;
};
INTERLOCK_JSON(SnappyLedger, total, history)

}  // namespace testledger
