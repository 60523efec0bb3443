// Accounts, a transfer desk and the transfer saga used by the process tests
// (and their crash test's program): a transfer debits one account, credits
// the other, and refunds the first if the credit is refused.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <interlock/runtime/interlock.hpp>

namespace transfers {

struct Open {
  using result_type = void;
  std::int64_t balance = 0;
  bool refuses_credits = false;
};
struct Debit {
  using result_type = void;
  std::int64_t amount = 0;
};
struct Credit {
  using result_type = void;
  std::int64_t amount = 0;
};
struct Refund {
  using result_type = void;
  std::int64_t amount = 0;
};
struct Opened {
  std::int64_t balance = 0;
  bool refuses_credits = false;
};
struct Debited {
  std::int64_t amount = 0;
};
struct Credited {
  std::int64_t amount = 0;
};
struct Refunded {
  std::int64_t amount = 0;
};
INTERLOCK_JSON(Open, balance, refuses_credits)
INTERLOCK_JSON(Debit, amount)
INTERLOCK_JSON(Credit, amount)
INTERLOCK_JSON(Refund, amount)
INTERLOCK_JSON(Opened, balance, refuses_credits)
INTERLOCK_JSON(Debited, amount)
INTERLOCK_JSON(Credited, amount)
INTERLOCK_JSON(Refunded, amount)

struct Account : interlock::aggregate<Account> {
  using commands = interlock::types<Open, Debit, Credit, Refund>;
  using events = interlock::types<Opened, Debited, Credited, Refunded>;
  bool open = false;
  bool refuses_credits = false;
  std::int64_t balance = 0;

  void handle(const Open& c) { emit(Opened{c.balance, c.refuses_credits}); }
  void handle(const Debit& c) {
    require_open();
    if (balance < c.amount) throw interlock::rejected{"insufficient funds in " + id()};
    emit(Debited{c.amount});
  }
  void handle(const Credit& c) {
    require_open();
    if (refuses_credits) throw interlock::rejected{"account " + id() + " refuses credits"};
    emit(Credited{c.amount});
  }
  void handle(const Refund& c) { emit(Refunded{c.amount}); }
  void apply(const Opened& e) {
    open = true;
    balance = e.balance;
    refuses_credits = e.refuses_credits;
  }
  void apply(const Debited& e) { balance -= e.amount; }
  void apply(const Credited& e) { balance += e.amount; }
  void apply(const Refunded& e) { balance += e.amount; }

 private:
  void require_open() const {
    if (!open) throw interlock::rejected{"account " + id() + " is not open"};
  }
};

struct StartTransfer {
  using result_type = void;
  std::string from, to;
  std::int64_t amount = 0;
};
struct MarkFailed {
  using result_type = void;
  std::string reason;
};
struct TransferRequested {
  std::string from, to;
  std::int64_t amount = 0;
};
struct TransferFailed {
  std::string reason;
};
INTERLOCK_JSON(StartTransfer, from, to, amount)
INTERLOCK_JSON(MarkFailed, reason)
INTERLOCK_JSON(TransferRequested, from, to, amount)
INTERLOCK_JSON(TransferFailed, reason)

struct TransferDesk : interlock::aggregate<TransferDesk> {
  using commands = interlock::types<StartTransfer, MarkFailed>;
  using events = interlock::types<TransferRequested, TransferFailed>;
  void handle(const StartTransfer& c) { emit(TransferRequested{c.from, c.to, c.amount}); }
  void handle(const MarkFailed& c) { emit(TransferFailed{c.reason}); }
  void apply(const TransferRequested&) {}
  void apply(const TransferFailed&) {}
};

struct Transfer : interlock::saga<Transfer> {
  using events = interlock::types<TransferRequested, Debited, Credited>;
  using commands = interlock::types<Debit, Credit, Refund, MarkFailed>;
  std::string from, to, desk;
  std::int64_t amount = 0;

  void start(const TransferRequested& e, const interlock::event_envelope& env) {
    desk = env.aggregate_id;
    from = e.from;
    to = e.to;
    amount = e.amount;
    dispatch(from, Debit{amount});
  }
  void on(const Debited&) { dispatch(to, Credit{amount}); }
  void on(const Credited&) { complete(); }
  void rejected(const Debit&, const std::string&) { complete(); }
  void rejected(const Credit&, const std::string& reason) {
    dispatch(from, Refund{amount});
    dispatch(desk, MarkFailed{reason});
    complete();
  }
};
INTERLOCK_JSON(Transfer, from, to, desk, amount)

inline interlock::application_builder& register_all(interlock::application_builder& b) {
  return b.aggregate<Account>().aggregate<TransferDesk>().saga<Transfer>();
}

/// Options that put a command in conversation `id` (its correlation id).
inline interlock::dispatch_options in_conversation(std::string id) {
  interlock::dispatch_options o;
  o.correlation_id = std::move(id);
  return o;
}

/// Account `id`'s balance as the journal has it now; -1 if it cannot be loaded.
inline std::int64_t balance(interlock::application& app, const std::string& id) {
  auto a = app.load_as_of<Account>(id);
  return a ? a->state.balance : -1;
}

}  // namespace transfers
