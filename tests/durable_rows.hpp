// The durable read model of the crash test (tests/durable_crash_test.cpp and
// tests/programs/durable_reader.cpp): one row per account with its balance
// and the number of events applied to it, so an event applied twice or
// skipped shows in the row.
#pragma once

#include <interlock/persistence/read_db.hpp>

#include "bank_domain.hpp"

namespace testbank {

struct CountedEvents : interlock::query<std::int64_t> {};

struct CountedBalances {
  using events = interlock::types<Opened, Deposited>;
  using queries = interlock::types<CountedEvents>;

  void create(interlock::read_db& db) {
    db.exec("CREATE TABLE IF NOT EXISTS counted (account TEXT PRIMARY KEY, amount INTEGER NOT NULL, "
            "events INTEGER NOT NULL)");
  }
  void on(const Opened&, const interlock::event_envelope& env, interlock::read_db& db) {
    db.exec("INSERT INTO counted VALUES (?, 0, 1)", env.aggregate_id);
  }
  void on(const Deposited& e, const interlock::event_envelope& env, interlock::read_db& db) {
    db.exec("UPDATE counted SET amount = amount + ?, events = events + 1 WHERE account = ?", e.amount,
            env.aggregate_id);
  }
  std::int64_t handle(const CountedEvents&, interlock::read_db& db) const {
    return *db.value<std::int64_t>("SELECT coalesce(sum(events), 0) FROM counted");
  }
};

}  // namespace testbank
