// Wrote tests/golden/banking_v1.sql: what the first version of the banking
// sample stored, appended through the journal API exactly as its aggregates
// did (event names, schema versions and payloads of that version). Kept for the
// record; it is not built. To regenerate (you should not need to):
//   g++ -std=c++20 -Ibuild/include tests/golden/make_banking_v1.cpp build/libinterlock.a -lsqlite3 -lcaf_core -o /tmp/mk
//   /tmp/mk /tmp/v1.db && sqlite3 /tmp/v1.db .dump > tests/golden/banking_v1.sql
// The committed file is in journal format 1 (one UNIQUE (stream_key, version)
// index), so golden_test.cpp also keeps the format-1 read and write path
// tested; this program, built today, would write format 2 instead.
#include <cstdio>

#include <interlock/persistence/sqlite_journal.hpp>

using namespace interlock;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto j = open_sqlite_journal({argv[1]});
  if (!j) return 1;
  auto ev = [](const char* type, const char* payload) { return event_record{type, 1, payload}; };
  const std::string ada = "01JADA00000000000000000000", bob = "01JB0B00000000000000000000";
  std::vector<append_request> batch{
      {"BankAccount", ada, 0, {ev("AccountOpened", R"({"owner":"Ada"})")}, "01JCMD00000000000000000001", "", ""},
      {"BankAccount", bob, 0, {ev("AccountOpenedWithDeposit", R"({"owner":"Bob","initial":5000})")},
       "01JCMD00000000000000000002", "", ""},
      {"BankAccount", ada, 1, {ev("MoneyDeposited", R"({"amount":10000})")}, "01JCMD00000000000000000003", "", ""},
      {"BankAccount", bob, 1, {ev("MoneyDeposited", R"({"amount":1500})")}, "01JCMD00000000000000000004", "", ""},
      {"BankAccount", ada, 2, {ev("FundsWithdrawn", R"({"amount":2500})")}, "01JCMD00000000000000000005", "", ""},
      {"BankAccount", bob, 2, {ev("FundsWithdrawn", R"({"amount":500})")}, "01JCMD00000000000000000006", "", ""},
  };
  for (auto& r : (*j)->append(batch))
    if (!r) return 1;
  return 0;
}
