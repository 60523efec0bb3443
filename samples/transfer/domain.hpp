// The transfer sample's domain: accounts, transfers, and the saga that moves
// money between two accounts: debit the one, credit the other, and refund the
// first if the credit is refused or does not come within 30 s.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <interlock/runtime/interlock.hpp>

namespace transfer {

using cents = std::int64_t;

// -- accounts ------------------------------------------------------------------

struct OpenAccount {
  using result_type = void;
  std::string owner;
  cents balance = 0;
  bool accepts_credits = true;  // a closed-down account takes nothing in
};
struct Debit {
  using result_type = void;
  cents amount = 0;
};
struct Credit {
  using result_type = void;
  cents amount = 0;
};
struct Refund {
  using result_type = void;
  cents amount = 0;
};
struct AccountOpened {
  std::string owner;
  cents balance = 0;
  bool accepts_credits = true;
};
struct Debited {
  cents amount = 0;
};
struct Credited {
  cents amount = 0;
};
struct Refunded {
  cents amount = 0;
};
INTERLOCK_JSON(OpenAccount, owner, balance, accepts_credits)
INTERLOCK_JSON(Debit, amount)
INTERLOCK_JSON(Credit, amount)
INTERLOCK_JSON(Refund, amount)
INTERLOCK_JSON(AccountOpened, owner, balance, accepts_credits)
INTERLOCK_JSON(Debited, amount)
INTERLOCK_JSON(Credited, amount)
INTERLOCK_JSON(Refunded, amount)

struct Account : interlock::aggregate<Account> {
  using commands = interlock::types<OpenAccount, Debit, Credit, Refund>;
  using events = interlock::types<AccountOpened, Debited, Credited, Refunded>;
  std::string owner;
  cents balance = 0;
  bool accepts_credits = true;

  void handle(const OpenAccount& c) { emit(AccountOpened{c.owner, c.balance, c.accepts_credits}); }
  void handle(const Debit& c) {
    if (c.amount > balance) throw interlock::rejected{"insufficient funds in " + owner + "'s account"};
    emit(Debited{c.amount});
  }
  void handle(const Credit& c) {
    if (!accepts_credits) throw interlock::rejected{owner + "'s account takes no credits"};
    emit(Credited{c.amount});
  }
  void handle(const Refund& c) { emit(Refunded{c.amount}); }

  void apply(const AccountOpened& e) {
    owner = e.owner;
    balance = e.balance;
    accepts_credits = e.accepts_credits;
  }
  void apply(const Debited& e) { balance -= e.amount; }
  void apply(const Credited& e) { balance += e.amount; }
  void apply(const Refunded& e) { balance += e.amount; }
};

// -- transfers -----------------------------------------------------------------

struct RequestTransfer {
  using result_type = void;
  std::string from, to;
  cents amount = 0;
};
struct CompleteTransfer {
  using result_type = void;
};
struct FailTransfer {
  using result_type = void;
  std::string reason;
};
struct TransferRequested {
  std::string from, to;
  cents amount = 0;
};
struct TransferCompleted {};
struct TransferFailed {
  std::string reason;
};
INTERLOCK_JSON(RequestTransfer, from, to, amount)
INTERLOCK_JSON(FailTransfer, reason)
INTERLOCK_JSON(TransferRequested, from, to, amount)
INTERLOCK_JSON(TransferFailed, reason)

/// What a transfer is: requested, then completed or failed (the saga says which).
struct Transfer : interlock::aggregate<Transfer> {
  using commands = interlock::types<RequestTransfer, CompleteTransfer, FailTransfer>;
  using events = interlock::types<TransferRequested, TransferCompleted, TransferFailed>;
  std::string from, to, status, reason;
  cents amount = 0;

  void handle(const RequestTransfer& c) {
    if (!status.empty()) throw interlock::rejected{"transfer " + id() + " was requested before"};
    if (c.amount <= 0) throw interlock::rejected{"a transfer moves a positive amount"};
    emit(TransferRequested{c.from, c.to, c.amount});
  }
  void handle(const CompleteTransfer&) { emit(TransferCompleted{}); }
  void handle(const FailTransfer& c) { emit(TransferFailed{c.reason}); }

  void apply(const TransferRequested& e) {
    from = e.from;
    to = e.to;
    amount = e.amount;
    status = "requested";
  }
  void apply(const TransferCompleted&) { status = "completed"; }
  void apply(const TransferFailed& e) {
    status = "failed";
    reason = e.reason;
  }
};

// -- the saga --------------------------------------------------------------------

/// One conversation per transfer: its id is the transfer's, and every command
/// the saga sends carries it as correlation id, so the accounts' events come back.
struct TransferSaga : interlock::saga<TransferSaga> {
  using events = interlock::types<TransferRequested, Debited, Credited, Refunded>;
  using commands = interlock::types<Debit, Credit, Refund, CompleteTransfer, FailTransfer>;

  std::string from, to;
  cents amount = 0;
  std::string failure;  // why it is being refunded

  static std::string conversation(const TransferRequested&, const interlock::event_envelope& env) {
    return env.aggregate_id;  // the transfer
  }

  void start(const TransferRequested& e) {
    from = e.from;
    to = e.to;
    amount = e.amount;
    dispatch(from, Debit{amount});
  }
  void on(const Debited&) {
    dispatch(to, Credit{amount});
    set_deadline(std::chrono::seconds(30));
  }
  void on(const Credited&) {
    dispatch(conversation_id(), CompleteTransfer{});
    complete();
  }
  void rejected(const Debit&, const std::string& reason) {
    dispatch(conversation_id(), FailTransfer{reason});
    complete();
  }
  void rejected(const Credit&, const std::string& reason) { refund("the credit was refused (" + reason + ")"); }
  void deadline_passed() { refund("no credit within 30 s"); }
  // The transfer is failed once the money is back, not while the refund is on its way.
  void on(const Refunded&) {
    dispatch(conversation_id(), FailTransfer{failure + "; refunded"});
    complete();
  }

 private:
  void refund(const std::string& why) {
    failure = why;
    dispatch(from, Refund{amount});
  }
};
INTERLOCK_JSON(TransferSaga, from, to, amount, failure)

}  // namespace transfer
