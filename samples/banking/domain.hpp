// The write side of the banking sample: commands, events and the BankAccount
// aggregate that enforces the rules. Money is int64 cents everywhere, so no
// rounding ever happens; it becomes "$1,234.00" only when printed.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <interlock/runtime/interlock.hpp>

namespace banking {

using cents = std::int64_t;

/// "$1,234.56" (and "-$5.00"): used by rejection messages and the tables.
inline std::string format_money(cents amount) {
  // Work on the magnitude as unsigned so INT64_MIN does not overflow.
  auto magnitude = amount < 0 ? 0 - static_cast<std::uint64_t>(amount) : static_cast<std::uint64_t>(amount);
  auto digits = std::to_string(magnitude / 100);
  std::string dollars;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) dollars += ',';
    dollars += digits[i];
  }
  auto fraction = magnitude % 100;
  return (amount < 0 ? "-$" : "$") + dollars + (fraction < 10 ? ".0" : ".") + std::to_string(fraction);
}

// -- commands (write requests; the aggregate id travels beside them) ----------

struct OpenAccount {
  using result_type = void;
  std::string owner_name;
};
struct DepositMoney {
  using result_type = void;
  cents amount = 0;
};
struct WithdrawMoney {
  using result_type = void;
  cents amount = 0;
};
struct CloseAccount {
  using result_type = void;
};

// -- events (facts, stored forever) -------------------------------------------
// Stored names are pinned: renaming a C++ type must not orphan the journal.

struct AccountOpened {
  static constexpr std::string_view type_name = "AccountOpened";
  static constexpr std::uint32_t schema_version = 2;  // v1 called the field "owner": see upcasters.hpp
  std::string owner_name;
};
struct MoneyDeposited {
  static constexpr std::string_view type_name = "MoneyDeposited";
  cents amount = 0;
};
struct MoneyWithdrawn {
  static constexpr std::string_view type_name = "MoneyWithdrawn";
  cents amount = 0;
};
struct AccountClosed {
  static constexpr std::string_view type_name = "AccountClosed";
};

INTERLOCK_JSON(OpenAccount, owner_name)
INTERLOCK_JSON(DepositMoney, amount)
INTERLOCK_JSON(WithdrawMoney, amount)
INTERLOCK_JSON(AccountOpened, owner_name)
INTERLOCK_JSON(MoneyDeposited, amount)
INTERLOCK_JSON(MoneyWithdrawn, amount)

// CloseAccount and AccountClosed have no fields: the runtime stores them as {}.

// -- the aggregate -------------------------------------------------------------

/// One bank account. Handlers only decide (check the rules against committed
/// state, then emit); appliers only change state, so replaying the journal
/// rebuilds exactly the state the handlers saw.
struct BankAccount : interlock::aggregate<BankAccount> {
  static constexpr std::string_view type_name = "BankAccount";  // stored with every event
  using commands = interlock::types<OpenAccount, DepositMoney, WithdrawMoney, CloseAccount>;
  using events = interlock::types<AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed>;

  std::string owner_name;
  cents balance = 0;
  bool opened = false;
  bool closed = false;

  void handle(const OpenAccount& c) {
    // Every id starts as an empty stream, so "already opened" is the only way
    // to tell a retried or mistaken OpenAccount from a new account.
    if (opened) throw interlock::rejected{"Account is already open (owner " + owner_name + ")"};
    if (c.owner_name.empty()) throw interlock::rejected{"Owner name must not be empty"};
    emit(AccountOpened{c.owner_name});
  }

  void handle(const DepositMoney& c) {
    require_open();
    require_positive(c.amount);
    if (c.amount > std::numeric_limits<cents>::max() - balance)
      throw interlock::rejected{"Deposit of " + format_money(c.amount) + " would overflow the balance"};
    emit(MoneyDeposited{c.amount});
  }

  void handle(const WithdrawMoney& c) {
    require_open();
    require_positive(c.amount);
    if (c.amount > balance)
      throw interlock::rejected{"Insufficient funds: balance " + format_money(balance) + ", requested " +
                                format_money(c.amount)};
    emit(MoneyWithdrawn{c.amount});
  }

  // Design choice: closing requires a zero balance. Closing would otherwise
  // have to decide where the money goes (a payout event, a transfer); making
  // the owner withdraw first keeps every cent visible in the history.
  void handle(const CloseAccount&) {
    require_open();
    if (balance != 0)
      throw interlock::rejected{"Cannot close an account holding " + format_money(balance) + "; withdraw it first"};
    emit(AccountClosed{});
  }

  void apply(const AccountOpened& e) {
    owner_name = e.owner_name;
    opened = true;
  }
  void apply(const MoneyDeposited& e) { balance += e.amount; }
  void apply(const MoneyWithdrawn& e) { balance -= e.amount; }
  void apply(const AccountClosed&) { closed = true; }

 private:
  void require_open() const {
    if (!opened) throw interlock::rejected{"Account was never opened"};
    if (closed) throw interlock::rejected{"Account is closed"};
  }
  static void require_positive(cents amount) {
    if (amount <= 0) throw interlock::rejected{"Amount must be positive, got " + format_money(amount)};
  }
};

// The state's JSON form: what `banking debug replay` and `step` show (and what
// a snapshot would store, were snapshots turned on).
INTERLOCK_JSON(BankAccount, owner_name, balance, opened, closed)

}  // namespace banking
