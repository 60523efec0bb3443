// The seeds' quick start: a bank account aggregate, a balance projection,
// one command and one query.
#include <cstdio>

#include <interlock/runtime/interlock.hpp>

#include "../sample_args.hpp"

// Commands (write operations) carry their result type.
struct OpenAccount {
  using result_type = void;
  std::string owner_name;
};
struct DepositMoney {
  using result_type = void;
  std::int64_t amount = 0;
};

// A query (read operation).
struct GetBalance {
  using result_type = std::int64_t;
  std::string account_id;
};

// Events: what happened.
struct AccountOpened {
  std::string owner_name;
};
struct MoneyDeposited {
  std::int64_t amount = 0;
};

// JSON form of each type: the fields Interlock stores and reads.
INTERLOCK_JSON(OpenAccount, owner_name)
INTERLOCK_JSON(DepositMoney, amount)
INTERLOCK_JSON(GetBalance, account_id)
INTERLOCK_JSON(AccountOpened, owner_name)
INTERLOCK_JSON(MoneyDeposited, amount)

// The aggregate: handlers decide, appliers change state.
struct BankAccount : interlock::aggregate<BankAccount> {
  using commands = interlock::types<OpenAccount, DepositMoney>;
  using events = interlock::types<AccountOpened, MoneyDeposited>;

  std::string owner_name;
  std::int64_t balance = 0;

  void handle(const OpenAccount& c) { emit(AccountOpened{c.owner_name}); }
  void handle(const DepositMoney& c) {
    if (c.amount <= 0) throw interlock::rejected{"Amount must be positive"};
    emit(MoneyDeposited{c.amount});
  }

  void apply(const AccountOpened& e) { owner_name = e.owner_name; }
  void apply(const MoneyDeposited& e) { balance += e.amount; }
};

// The projection: a read model built from events, answering queries.
struct BalanceProjection {
  using events = interlock::types<MoneyDeposited>;
  using queries = interlock::types<GetBalance>;

  std::map<std::string, std::int64_t> balances;

  void on(const MoneyDeposited& e, const interlock::event_envelope& env) { balances[env.aggregate_id] += e.amount; }
  std::int64_t handle(const GetBalance& q) const {
    auto it = balances.find(q.account_id);
    return it == balances.end() ? 0 : it->second;
  }
};

int main(int argc, char** argv) {
  auto args = sample_args::parse(argc, argv, "data/quickstart.db");
  // An actor system of its own; inside a CAF application: builder{sys}.
  interlock::application_builder builder;
  builder.aggregate<BankAccount>().projection<BalanceProjection>();
  args.apply(builder);
  auto app = builder.build();
  if (!app) {
    std::fprintf(stderr, "cannot start: %s\n", interlock::describe(app.error()).c_str());
    return 1;
  }

  auto account_id = interlock::new_id();
  auto opened = app->dispatch(account_id, OpenAccount{"Alice"});
  auto deposited = app->dispatch(account_id, DepositMoney{100});
  if (!opened || !deposited) {
    std::fprintf(stderr, "command failed: %s\n", interlock::describe(opened ? deposited.error() : opened.error()).c_str());
    return 1;
  }
  // `after` = read your own write: wait until the projection has seen the deposit.
  auto balance = app->query(GetBalance{account_id}, {.after = deposited->position});
  if (!balance) {
    std::fprintf(stderr, "query failed: %s\n", interlock::describe(balance.error()).c_str());
    return 1;
  }
  std::printf("Balance: $%lld\n", static_cast<long long>(*balance));
  if (args.status) print_status(*app);
  return 0;
}
