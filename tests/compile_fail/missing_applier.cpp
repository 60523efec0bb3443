// Must NOT compile: MoneyDeposited is listed in `events` but has no apply().
#include <interlock/runtime/aggregate_test.hpp>
#include <interlock/runtime/interlock.hpp>

struct DepositMoney {
  using result_type = void;
  int amount = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DepositMoney, amount)
struct MoneyDeposited {
  int amount = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MoneyDeposited, amount)

struct Account : interlock::aggregate<Account> {
  using commands = interlock::types<DepositMoney>;
  using events = interlock::types<MoneyDeposited>;
  void handle(const DepositMoney& c) { emit(MoneyDeposited{c.amount}); }
};

int main() { interlock::aggregate_test<Account> t; }
