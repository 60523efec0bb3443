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

struct TransactionHistoryProjection {
  // Opening and closing move no money, so this view ignores those events.
  using events = interlock::types<MoneyDeposited, MoneyWithdrawn>;
  using queries = interlock::types<GetTransactionHistory>;

  std::unordered_map<std::string, std::vector<Transaction>> histories;  // by account id

  void on(const MoneyDeposited& e, const interlock::event_envelope& env) { record(env, "deposit", e.amount, e.amount); }
  void on(const MoneyWithdrawn& e, const interlock::event_envelope& env) {
    record(env, "withdrawal", e.amount, -e.amount);
  }

  std::vector<Transaction> handle(const GetTransactionHistory& q) const {
    auto it = histories.find(q.account_id);
    return it == histories.end() ? std::vector<Transaction>{} : it->second;
  }

 private:
  void record(const interlock::event_envelope& env, std::string type, cents amount, cents delta) {
    auto& history = histories[env.aggregate_id];
    // Events reach a projection in journal order, so the previous row holds
    // the balance just before this event.
    cents before = history.empty() ? 0 : history.back().balance_after;
    history.push_back({std::move(type), amount, before + delta, env.position, env.recorded_at_us});
  }
};

}  // namespace banking
