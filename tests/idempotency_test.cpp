// Idempotency keys: a command dispatched with a command_id the journal has
// recorded returns its first outcome instead of running again, also after a
// restart; the record is written in the transaction of the command's events.
#include <catch2/catch.hpp>

#include <future>

#include "bank_app.hpp"
#include "raw_db.hpp"

#include <interlock/persistence/memory_journal.hpp>

using namespace testbank;
using namespace testing_support;
using interlock::errc;

namespace {

interlock::dispatch_options key(std::string id) {
  interlock::dispatch_options o;
  o.command_id = std::move(id);
  return o;
}

std::size_t events_of(const std::string& db, const std::string& command_id) {
  return raw_db{db}.rows("SELECT 1 FROM events WHERE command_id = '" + command_id + "'").size();
}

}  // namespace

TEST_CASE("idempotency: a retried command returns the first outcome and runs once", "[idempotency]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  interlock::receipt<std::int64_t> first;
  {
    actor_env env;
    auto app = start_bank(env.sys, db);
    REQUIRE(app);
    REQUIRE(app->dispatch("acc", Open{"Alice"}));
    auto r = app->dispatch("acc", Deposit{{}, 10, "t"}, key("deposit-1"));
    REQUIRE(r);
    first = *r;
    REQUIRE(app->dispatch("acc", Deposit{{}, 5, "u"}));  // the state moves on
    auto again = app->dispatch("acc", Deposit{{}, 10, "t"}, key("deposit-1"));
    REQUIRE(again);
    CHECK(again->value == 10);  // the first result, not 25
    CHECK(again->version == first.version);
    CHECK(again->position == first.position);
  }
  CHECK(events_of(db, "deposit-1") == 1);
  actor_env env;  // a restart: the record is in the journal, not in memory
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  auto after_restart = app->dispatch("acc", Deposit{{}, 10, "t"}, key("deposit-1"));
  REQUIRE(after_restart);
  CHECK(after_restart->value == 10);
  CHECK(after_restart->position == first.position);
  CHECK(events_of(db, "deposit-1") == 1);
  auto balance = app->query(GetBalance{"acc"}, {.after = 3});
  REQUIRE(balance);
  CHECK(*balance == 15);
}

TEST_CASE("idempotency: concurrent duplicates commit once and get the same receipt", "[idempotency]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("acc", Open{"Alice"}));
  std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> replies;
  for (int i = 0; i < 20; ++i) replies.push_back(app->dispatch_async("acc", Deposit{{}, 7, "x"}, key("same")));
  std::set<std::uint64_t> positions;
  for (auto& f : replies) {
    auto r = f.get();
    REQUIRE(r);
    CHECK(r->value == 7);
    positions.insert(r->position);
  }
  CHECK(positions.size() == 1);
  CHECK(events_of(db, "same") == 1);
}

TEST_CASE("idempotency: a refused command's refusal is its outcome, also after a restart", "[idempotency]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  {
    actor_env env;
    auto app = start_bank(env.sys, db);
    REQUIRE(app);
    auto rejected = app->dispatch("acc", Deposit{{}, 10, "t"}, key("k1"));  // not open yet
    REQUIRE_FALSE(rejected);
    CHECK(interlock::describe(rejected.error()) == "rejected: account acc is not open");
    REQUIRE(app->dispatch("acc", Open{"Alice"}));
    auto again = app->dispatch("acc", Deposit{{}, 10, "t"}, key("k1"));  // the state changed; the outcome did not
    REQUIRE_FALSE(again);
    CHECK(interlock::describe(again.error()) == "rejected: account acc is not open");
  }
  CHECK(events_of(db, "k1") == 0);
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  auto after_restart = app->dispatch("acc", Deposit{{}, 10, "t"}, key("k1"));
  REQUIRE_FALSE(after_restart);
  CHECK(interlock::describe(after_restart.error()) == "rejected: account acc is not open");
  auto balance = app->query(GetBalance{"acc"}, {.after = 1});
  REQUIRE(balance);
  CHECK(*balance == 0);
}

TEST_CASE("idempotency: a command that emits nothing is recorded with its result", "[idempotency]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("acc", Open{"Alice"}));
  auto first = app->dispatch("acc", Ping{7}, key("ping-1"));
  REQUIRE(first);
  CHECK(first->value == "acc:7@1");
  CHECK(first->events == 0);
  REQUIRE(app->dispatch("acc", Deposit{{}, 5, "u"}));
  auto again = app->dispatch("acc", Ping{7}, key("ping-1"));
  REQUIRE(again);
  CHECK(again->value == "acc:7@1");  // not run again at version 2
  CHECK(again->version == 1);
  CHECK(again->events == 0);
  CHECK(app->dispatch("acc", Ping{7}, key("ping-2"))->value == "acc:7@2");
}

TEST_CASE("idempotency: a key names one command: another aggregate or type is refused", "[idempotency]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("acc", Open{"Alice"}));
  REQUIRE(app->dispatch("acc", Deposit{{}, 10, "t"}, key("k1")));
  REQUIRE(app->dispatch("other", Open{"Bob"}));
  auto reused = app->dispatch("other", Deposit{{}, 10, "t"}, key("k1"));
  REQUIRE_FALSE(reused);
  CHECK(interlock::describe(reused.error()) ==
        "invalid_argument: command id k1 was already used for a command to Account/acc, not Account/other");
  auto other_type = app->dispatch("acc", Withdraw{10}, key("k1"));
  REQUIRE_FALSE(other_type);
  CHECK(interlock::describe(other_type.error()) ==
        "invalid_argument: command id k1 was already used for a command Deposit to Account/acc, not Withdraw");
  auto balance = app->query(GetBalance{"acc"}, {.after = 2});
  REQUIRE(balance);
  CHECK(*balance == 10);
  CHECK(raw_db{db}.rows("SELECT command_id FROM commands") == std::vector<std::string>{"k1"});
}

TEST_CASE("idempotency: the journal refuses a recorded command id in any batch", "[idempotency][journal]") {
  temp_dir dir;
  for (auto factory : {interlock::memory_journal_factory(), interlock::sqlite_journal_factory({dir.file("j.db")})}) {
    auto j = factory();
    REQUIRE(j);
    interlock::append_request req{"A", "x", 0, {{"E", 1, "{}"}}, "cmd-1", "", ""};
    req.record_command = true;
    req.result_json = "42";
    auto first = (*j)->append({req});
    REQUIRE(first[0]);
    req.expected_version = 1;
    auto second = (*j)->append({req, interlock::append_request{"A", "y", 0, {{"E", 1, "{}"}}, "cmd-2", "", ""}});
    REQUIRE_FALSE(second[0]);
    CHECK(interlock::describe(second[0].error()) ==
          "conflict: command cmd-1 to 'A/x' was committed before; it is not run twice");
    CHECK(second[1]);  // the others in the batch commit
    auto found = (*j)->find_command("cmd-1");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((**found).result_json == "42");
    CHECK((**found).last_version == 1);
    CHECK_FALSE(*(*j)->find_command("cmd-2"));  // not recorded: it did not ask to be
  }
}
