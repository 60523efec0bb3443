// The read side of the banking sample: two projections, each building its own
// denormalised read model from the same events and answering its own queries.
// Neither reads the other or the aggregate: each can be rebuilt from the
// journal alone.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <interlock/persistence/read_db.hpp>
#include <interlock/runtime/interlock.hpp>

#include "domain.hpp"

namespace banking {

// -- AccountSummary: one row per account ---------------------------------------

struct AccountSummary {
  std::string account_id;
  std::string owner_name;
  cents balance = 0;
  std::uint32_t transactions = 0;  // deposits + withdrawals
  bool open = true;
};

/// All accounts, sorted by owner, then id (ULIDs: oldest first).
struct GetAccountSummaries {
  using result_type = std::vector<AccountSummary>;
};
/// One account; nullopt if the id was never opened.
struct GetAccountSummary {
  using result_type = std::optional<AccountSummary>;
  std::string account_id;
};

INTERLOCK_JSON(GetAccountSummary, account_id)

struct AccountSummaryProjection {
  using events = interlock::types<AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed>;
  using queries = interlock::types<GetAccountSummaries, GetAccountSummary>;

  std::map<std::string, AccountSummary> accounts;  // by account id

  void on(const AccountOpened& e, const interlock::event_envelope& env) {
    accounts[env.aggregate_id] = {.account_id = env.aggregate_id, .owner_name = e.owner_name};
  }
  void on(const MoneyDeposited& e, const interlock::event_envelope& env) { add(env, e.amount); }
  void on(const MoneyWithdrawn& e, const interlock::event_envelope& env) { add(env, -e.amount); }
  void on(const AccountClosed&, const interlock::event_envelope& env) { accounts[env.aggregate_id].open = false; }

  std::vector<AccountSummary> handle(const GetAccountSummaries&) const {
    std::vector<AccountSummary> rows;
    rows.reserve(accounts.size());
    for (const auto& [id, row] : accounts) rows.push_back(row);
    std::ranges::sort(rows, {}, [](const AccountSummary& r) { return std::tie(r.owner_name, r.account_id); });
    return rows;
  }

  std::optional<AccountSummary> handle(const GetAccountSummary& q) const {
    auto it = accounts.find(q.account_id);
    if (it == accounts.end()) return std::nullopt;
    return it->second;
  }

 private:
  void add(const interlock::event_envelope& env, cents delta) {
    auto& row = accounts[env.aggregate_id];
    row.balance += delta;
    ++row.transactions;
  }
};

// -- TransactionHistory: every money movement per account ----------------------

struct Transaction {
  std::string type;  // "deposit" or "withdrawal"
  cents amount = 0;
  cents balance_after = 0;     // the running balance, computed here from the events
  std::uint64_t position = 0;  // global journal position
  std::int64_t recorded_at_us = 0;  // commit time, microseconds since the epoch, UTC
};

/// The account's transactions, oldest first; empty for an unknown account.
struct GetTransactionHistory {
  using result_type = std::vector<Transaction>;
  std::string account_id;
};

INTERLOCK_JSON(GetTransactionHistory, account_id)

// A durable read model: its rows live in the read store's tables
// (data/banking.read.db beside the journal; with --postgres, the read schema
// on the server: the SQL is the same), updated in the transaction that
// also records how far it has read, so a restart goes on from there and never
// applies an event twice. Its handlers take the read store's connection.
struct TransactionHistoryProjection {
  // Opening and closing move no money, so this view ignores those events.
  using events = interlock::types<MoneyDeposited, MoneyWithdrawn>;
  using queries = interlock::types<GetTransactionHistory>;

  void create(interlock::read_db& db) {
    // BIGINT: 64 bits on both databases (PostgreSQL's INTEGER has 32).
    db.exec("CREATE TABLE IF NOT EXISTS transaction_history (account_id TEXT NOT NULL, position BIGINT NOT NULL, "
            "type TEXT NOT NULL, amount BIGINT NOT NULL, balance_after BIGINT NOT NULL, "
            "recorded_at_us BIGINT NOT NULL, PRIMARY KEY (account_id, position))");
  }
  void reset(interlock::read_db& db) { db.exec("DELETE FROM transaction_history"); }

  void on(const MoneyDeposited& e, const interlock::event_envelope& env, interlock::read_db& db) {
    record(db, env, "deposit", e.amount, e.amount);
  }
  void on(const MoneyWithdrawn& e, const interlock::event_envelope& env, interlock::read_db& db) {
    record(db, env, "withdrawal", e.amount, -e.amount);
  }

  std::vector<Transaction> handle(const GetTransactionHistory& q, interlock::read_db& db) const {
    std::vector<Transaction> out;
    for (auto [type, amount, balance_after, position, recorded_at_us] :
         db.rows<std::string, cents, cents, std::uint64_t, std::int64_t>(
             "SELECT type, amount, balance_after, position, recorded_at_us FROM transaction_history "
             "WHERE account_id = ? ORDER BY position",
             q.account_id))
      out.push_back({type, amount, balance_after, position, recorded_at_us});
    return out;
  }

 private:
  static void record(interlock::read_db& db, const interlock::event_envelope& env, const char* type, cents amount,
                     cents delta) {
    // Events reach a projection in journal order, so the account's newest row
    // holds the balance just before this event.
    auto before = db.value<cents>("SELECT balance_after FROM transaction_history WHERE account_id = ? "
                                  "ORDER BY position DESC LIMIT 1",
                                  env.aggregate_id);
    db.exec("INSERT INTO transaction_history VALUES (?, ?, ?, ?, ?, ?)", env.aggregate_id, env.position, type, amount,
            before.value_or(0) + delta, env.recorded_at_us);
  }
};

}  // namespace banking
