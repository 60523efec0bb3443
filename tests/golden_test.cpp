// Golden file: a journal written by the first version of the banking sample
// (tests/golden/banking_v1.sql, see make_banking_v1.cpp), in the first
// published format. It is refused until upgraded; upgraded, it reads exactly
// as before, loads with today's code through its upcasters, and its rows are
// never rewritten.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/persistence/sqlite_upgrade.hpp>

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

// A copy of the golden journal in a temp file (the committed one stays
// untouched), in its own format.
std::string golden_v1_file(const temp_dir& dir) {
  auto path = dir.file("banking_v1.db");
  raw_db{path}.exec(golden_sql());
  return path;
}

// The golden copy, upgraded to the current format.
std::string golden_copy(const temp_dir& dir) {
  auto path = golden_v1_file(dir);
  auto report = interlock::upgrade_sqlite_journal(path);
  REQUIRE(report);
  REQUIRE(report->from_format == 1);
  return path;
}

// Every event as a reader of format 1 got it: ids in full, none as NULL.
std::vector<std::string> v1_events_as_read(const std::string& path) {
  return raw_db{path}.rows(
      "SELECT e.global_position, s.aggregate_type, s.aggregate_id, e.version, e.event_type, e.schema_version,"
      " e.payload, e.recorded_at, coalesce(e.command_id, ''), coalesce(e.correlation_id, ''),"
      " coalesce(e.causation_id, '') FROM events e JOIN streams s USING (stream_key) ORDER BY e.global_position");
}

// The same, through the current journal.
std::vector<std::string> events_as_read(const std::string& path) {
  auto j = interlock::open_sqlite_journal({path});
  REQUIRE(j);
  auto all = (*j)->read_all(1, 1'000'000);
  REQUIRE(all);
  std::vector<std::string> out;
  for (const auto& e : *all)
    out.push_back(std::to_string(e.position) + "|" + e.aggregate_type + "|" + e.aggregate_id + "|" +
                  std::to_string(e.version) + "|" + e.event_type + "|" + std::to_string(e.schema_version) + "|" +
                  e.payload + "|" + std::to_string(e.recorded_at_us) + "|" + e.command_id + "|" + e.correlation_id +
                  "|" + e.causation_id);
  return out;
}

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db, bool upcast = true) {
  interlock::application_builder builder{sys};
  builder.aggregate<BankAccount>().projection<AccountSummaryProjection>().projection<TransactionHistoryProjection>();
  if (upcast) add_upcasters(builder.upcasters());
  return builder.sqlite(db).build();
}

}  // namespace

TEST_CASE("golden v1 journal: refused until upgraded, then read exactly as before", "[golden][upgrade]") {
  temp_dir dir;
  const auto path = golden_v1_file(dir);
  const auto before = v1_events_as_read(path);
  REQUIRE(before.size() == 6);
  {
    actor_env env;
    auto app = start(env.sys, path);
    REQUIRE_FALSE(app);
    CHECK_THAT(interlock::message_of(app.error()),
               Catch::Contains("format 1") && Catch::Contains("interlock-journal upgrade " + path));
  }
  auto report = interlock::upgrade_sqlite_journal(path);
  REQUIRE(report);
  CHECK(report->events == 6);
  CHECK(events_as_read(path) == before);
  CHECK(v1_events_as_read(report->backup_path) == before);  // the original, kept as it was
  // Format 1 had no commands table: the upgraded file, in format 7, has an empty one.
  raw_db upgraded{path};
  CHECK(upgraded.rows("SELECT value FROM journal_meta WHERE key = 'format_version'") == std::vector<std::string>{"7"});
  CHECK(upgraded.rows("SELECT count(*) FROM commands") == std::vector<std::string>{"0"});
}

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
