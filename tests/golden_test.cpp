// Golden file: a journal written by the first version of the banking sample
// (tests/golden/banking_v1.sql, see make_banking_v1.cpp) still loads with
// today's code through its upcasters, and its rows are never rewritten.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "../samples/banking/domain.hpp"
#include "../samples/banking/read_models.hpp"
#include "../samples/banking/upcasters.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace banking;
using namespace testing_support;

namespace {

const std::string ada = "01JADA00000000000000000000", bob = "01JB0B00000000000000000000";

std::string golden_sql() {
  const auto here = std::filesystem::path{__FILE__}.parent_path();
  std::ifstream in{here / "golden" / "banking_v1.sql"};
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A copy of the golden journal in a temp file (the committed one stays untouched).
std::string golden_copy(const temp_dir& dir) {
  auto path = dir.file("banking_v1.db");
  raw_db{path}.exec(golden_sql());
  return path;
}

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db, bool upcast = true) {
  interlock::application_builder builder{sys};
  builder.aggregate<BankAccount>().projection<AccountSummaryProjection>().projection<TransactionHistoryProjection>();
  if (upcast) add_upcasters(builder.upcasters());
  return builder.sqlite(db).build();
}

}  // namespace

TEST_CASE("golden v1 journal: aggregates load through the upcasters", "[golden][upcast]") {
  temp_dir dir;
  const auto db = golden_copy(dir);
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  auto a = app->load_as_of<BankAccount>(ada);
  REQUIRE(a);
  CHECK(a->state.owner_name == "Ada");  // AccountOpened v1 {"owner"} -> v2 {"owner_name"}
  CHECK(a->state.balance == 7'500);     // FundsWithdrawn -> MoneyWithdrawn
  CHECK(a->state.version() == 3);
  auto b = app->load_as_of<BankAccount>(bob);
  REQUIRE(b);
  CHECK(b->state.owner_name == "Bob");  // AccountOpenedWithDeposit -> AccountOpened + MoneyDeposited
  CHECK(b->state.balance == 6'000);
  CHECK(b->state.version() == 3);
  REQUIRE(b->last);
  CHECK(b->last->event_type == "MoneyWithdrawn");

  // The live aggregate goes on from the stored versions.
  auto w = app->dispatch(bob, WithdrawMoney{6'000});
  REQUIRE(w);
  CHECK(w->version == 4);
  REQUIRE(app->dispatch(bob, CloseAccount{}));
  CHECK_FALSE(app->dispatch(bob, DepositMoney{1}));
}

TEST_CASE("golden v1 journal: projections catch up through the upcasters", "[golden][upcast]") {
  temp_dir dir;
  const auto db = golden_copy(dir);
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  auto summary = app->query(GetAccountSummary{bob}, {.after = 6});
  REQUIRE(summary);
  REQUIRE(*summary);
  CHECK((*summary)->owner_name == "Bob");
  CHECK((*summary)->balance == 6'000);
  CHECK((*summary)->transactions == 3);
  auto history = app->query(GetTransactionHistory{bob}, {.after = 6});
  REQUIRE(history);
  REQUIRE(history->size() == 3);
  CHECK(((*history)[0].type == "deposit" && (*history)[0].amount == 5'000 && (*history)[0].position == 2));
  CHECK(((*history)[2].type == "withdrawal" && (*history)[2].balance_after == 6'000));
}

TEST_CASE("golden v1 journal: the stored rows are never rewritten", "[golden][upcast]") {
  temp_dir dir;
  const auto db = golden_copy(dir);
  const auto before = raw_db{db}.rows("SELECT * FROM events ORDER BY global_position");
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    REQUIRE(app->load_as_of<BankAccount>(ada));
    REQUIRE(app->query(GetAccountSummaries{}, {.after = 6}));
  }
  CHECK(raw_db{db}.rows("SELECT * FROM events ORDER BY global_position") == before);
}

TEST_CASE("golden v1 journal: without upcasters the runtime refuses to start, naming the gap", "[golden][upcast]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, golden_copy(dir), false);
  REQUIRE_FALSE(app);
  CHECK_THAT(interlock::message_of(app.error()),
             Catch::Contains("AccountOpened") && Catch::Contains("no upcaster from schema version 1 to 2"));
}

TEST_CASE("golden v1 journal: an old event type nobody upcasts is an error naming it", "[golden][upcast]") {
  temp_dir dir;
  actor_env env;
  interlock::application_builder builder{env.sys};
  builder.aggregate<BankAccount>();
  builder.upcasters().step<AccountOpened>(1, [](nlohmann::json p) {  // but no rename of FundsWithdrawn
    return nlohmann::json{{"owner_name", p.at("owner")}};
  });
  auto app = builder.sqlite(golden_copy(dir)).build();
  REQUIRE(app);
  auto a = app->load_as_of<BankAccount>(ada);
  REQUIRE_FALSE(a);
  CHECK_THAT(interlock::message_of(a.error()),
             Catch::Contains("BankAccount/" + ada) && Catch::Contains("version 3") && Catch::Contains("FundsWithdrawn"));
}
