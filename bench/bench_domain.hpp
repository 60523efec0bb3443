// The benchmark's domain: the bank of tests/bank_domain.hpp cut down to what
// the workloads send. Account keeps no per-event history (1,000,000 replayed
// events must not cost 1,000,000 strings), Counter is the catch-up projection,
// Vault is the snapshot workload's aggregate (Account's stream, JSON state).
#pragma once

#include <cstdint>
#include <string>

#include <interlock/runtime/interlock.hpp>

// INTERLOCK_JSON: the runtime's fast codec path (the stored payload is plain JSON).
#define BENCH_JSON(...) INTERLOCK_JSON(__VA_ARGS__)
#define BENCH_JSON_CODEC "INTERLOCK_JSON"

namespace bench {

struct Open {
  using result_type = void;
  std::string owner;
};
struct Deposit {
  using result_type = std::int64_t;  // the new balance
  std::int64_t amount = 0;
  std::string tag;
};
struct Ping {  // emits nothing: the first one to an aggregate times its recovery
  using result_type = std::uint64_t;  // the aggregate's version
  int nonce = 0;
};

struct Opened {
  std::string owner;
};
struct Deposited {
  std::int64_t amount = 0;
  std::string tag;
};

BENCH_JSON(Open, owner)
BENCH_JSON(Deposit, amount, tag)
BENCH_JSON(Ping, nonce)
BENCH_JSON(Opened, owner)
BENCH_JSON(Deposited, amount, tag)

struct Account : interlock::aggregate<Account> {
  using commands = interlock::types<Open, Deposit, Ping>;
  using events = interlock::types<Opened, Deposited>;

  bool open = false;
  std::int64_t balance = 0;

  void handle(const Open& c) {
    if (open) throw interlock::rejected{"account " + id() + " is already open"};
    emit(Opened{c.owner});
  }
  std::int64_t handle(const Deposit& c) {
    if (!open) throw interlock::rejected{"account " + id() + " is not open"};
    if (c.amount <= 0) throw interlock::rejected{"Amount must be positive"};
    emit(Deposited{c.amount, c.tag});
    return balance + c.amount;
  }
  std::uint64_t handle(const Ping&) { return version(); }

  void apply(const Opened&) { open = true; }
  void apply(const Deposited& e) { balance += e.amount; }
};

// -- the catch-up projection --------------------------------------------------

struct Progress {
  std::uint64_t events = 0;
  std::int64_t total = 0;
};
struct GetProgress {
  using result_type = Progress;
};

struct Counter {
  using events = interlock::types<Opened, Deposited>;
  using queries = interlock::types<GetProgress>;

  Progress progress;

  void on(const Opened&) { ++progress.events; }
  void on(const Deposited& e) {
    ++progress.events;
    progress.total += e.amount;
  }
  Progress handle(const GetProgress&) const { return progress; }
};

// The resume workload's projection: Counter with a read-model snapshot.
struct CheckpointedCounter {
  static constexpr std::uint64_t snapshot_every = 100'000;
  using events = interlock::types<Opened, Deposited>;
  using queries = interlock::types<GetProgress>;

  std::uint64_t seen = 0;
  std::int64_t total = 0;

  void on(const Opened&) { ++seen; }
  void on(const Deposited& e) {
    ++seen;
    total += e.amount;
  }
  Progress handle(const GetProgress&) const { return {seen, total}; }
};
BENCH_JSON(CheckpointedCounter, seen, total)

// -- what the workloads and the raw-SQLite ceiling both write -------------------

// The tag of account `account`'s deposit number `deposit` (0-based): the same
// bytes whichever order the rows are written in.
inline std::string deposit_tag(std::size_t account, std::size_t deposit) {
  return "a" + std::to_string(account) + "-d" + std::to_string(deposit);
}
inline std::string owner_name(std::size_t account) { return "owner-" + std::to_string(account); }

// The payload JSON as the runtime stores it (its own encoder).
inline std::string opened_payload(std::size_t account) {
  return interlock::detail::encode_json(Opened{owner_name(account)});
}
inline std::string deposited_payload(std::size_t account, std::size_t deposit) {
  return interlock::detail::encode_json(Deposited{1, deposit_tag(account, deposit)});
}

// -- the snapshot workload's aggregate -----------------------------------------

// Appends `count` events to a Vault: the stream the replay workload writes
// (Opened at version 1, then Deposited{1, deposit_tag(0, v - 2)}), so a
// snapshot lands at every command when count equals the snapshot interval.
struct Fill {
  using result_type = std::uint64_t;  // the version after the command
  std::uint32_t count = 0;
};
BENCH_JSON(Fill, count)

// Account's state and events with a JSON-serialisable state. It declares no
// snapshot policy of its own: runtime_settings.snapshot_every decides, so one
// stream can be recovered from its snapshots or fully replayed (every = 0).
struct Vault : interlock::aggregate<Vault> {
  using commands = interlock::types<Fill, Ping>;
  using events = interlock::types<Opened, Deposited>;

  bool open = false;
  std::int64_t balance = 0;

  std::uint64_t handle(const Fill& c) {
    auto v = version();
    for (std::uint32_t i = 0; i < c.count; ++i) {
      ++v;
      if (v == 1) emit(Opened{owner_name(0)});
      else emit(Deposited{1, deposit_tag(0, v - 2)});
    }
    return v;
  }
  std::uint64_t handle(const Ping&) { return version(); }

  void apply(const Opened&) { open = true; }
  void apply(const Deposited& e) { balance += e.amount; }
};
BENCH_JSON(Vault, open, balance)

}  // namespace bench
