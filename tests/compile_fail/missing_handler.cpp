// Must NOT compile: DepositMoney is listed in `commands` but has no handle().
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
  void apply(const MoneyDeposited&) {}
};

int main() { interlock::aggregate_test<Account> t; }
