#include <catch2/catch.hpp>

#include <sys/wait.h>

#include "bank_app.hpp"
#include "process_runner.hpp"

using namespace testbank;
using namespace testing_support;

namespace {

struct snapshot {
  std::map<std::string, std::int64_t> totals;
  std::vector<std::string> seen;
  std::vector<std::string> tags;
};

snapshot read_views(interlock::application& app, std::uint64_t after) {
  snapshot s;
  auto totals = app.query(GetTotals{}, {.after = after});
  auto seen = app.query(GetSeen{}, {.after = after});
  GetTags q;
  q.account_id = "acc-1";
  auto tags = app.query(q, {.after = after});
  REQUIRE(totals);
  REQUIRE(seen);
  REQUIRE(tags);
  return {*totals, *seen, *tags};
}

}  // namespace

TEST_CASE("restart: aggregates and projections come back from the SQLite file", "[restart]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  snapshot live;
  std::uint64_t last = 0;
  {
    actor_env env;
    auto app = start_bank(env.sys, db);
    REQUIRE(app);
    for (int a = 0; a < 20; ++a) {
      auto id = "acc-" + std::to_string(a);
      REQUIRE(app->dispatch(id, Open{"owner-" + std::to_string(a)}));
      for (int d = 0; d <= a; ++d) {
        auto r = app->dispatch(id, Deposit{{}, 10, std::to_string(d)});
        REQUIRE(r);
        last = std::max(last, r->position);
      }
    }
    REQUIRE(app->dispatch("acc-3", Withdraw{15}));
    last += 1;
    live = read_views(*app, last);
  }  // application, actor system and every database connection are gone
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  auto restarted = read_views(*app, last);
  CHECK(restarted.totals == live.totals);
  CHECK(restarted.seen == live.seen);
  CHECK(restarted.tags == live.tags);
  CHECK(restarted.totals["acc-3"] == 25);

  // The aggregate recovered its state: it knows the balance and the version.
  auto overdraft = app->dispatch("acc-3", Withdraw{26});
  REQUIRE_FALSE(overdraft);
  CHECK(interlock::message_of(overdraft.error()) == "Insufficient funds: balance 25, requested 26");
  auto again = app->dispatch("acc-3", Open{"x"});
  REQUIRE_FALSE(again);
  CHECK(interlock::message_of(again.error()) == "account acc-3 is already open");
  auto next = app->dispatch("acc-3", Deposit{{}, 1, "after-restart"});
  REQUIRE(next);
  CHECK(next->version == 1 + 4 + 1 + 1);
  CHECK(next->position == last + 1);
  CHECK(next->value == 26);
}

TEST_CASE("restart: another process's acknowledged commands are all there", "[restart]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  auto cmd = std::string{INTERLOCK_PROGRAM_bank_writer} + " --db " + db + " --accounts 7 --deposits 300";
  auto first = run_program(cmd);
  REQUIRE(first.exit_code == 0);
  REQUIRE(first.lines.size() == 300);
  auto second = run_program(cmd);  // a second run continues every stream where the first left it
  REQUIRE(second.exit_code == 0);
  REQUIRE(second.lines.size() == 300);
  CHECK(second.lines.back().find("ack ") == 0);

  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  auto totals = app->query(GetTotals{}, {.after = 7 + 600});  // the second run's opens were rejected
  REQUIRE(totals);
  std::int64_t sum = 0;
  for (auto& [id, balance] : *totals) sum += balance;
  CHECK(totals->size() == 7);
  CHECK(sum == 600);
  auto seen = app->query(GetSeen{});
  REQUIRE(seen);
  CHECK(seen->size() == 7 + 600);  // 7 opens (the second run's opens were rejected) + 600 deposits
}

TEST_CASE("restart: recovery and catch-up read the journal in chunks", "[restart]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  std::uint64_t last = 0;
  {
    actor_env env;
    auto app = start_bank(env.sys, db);
    REQUIRE(app);
    REQUIRE(app->dispatch("acc-1", Open{"o"}));
    REQUIRE(app->dispatch("acc-2", Open{"o"}));
    for (int i = 0; i < 50; ++i) {
      auto r = app->dispatch(i % 3 ? "acc-1" : "acc-2", Deposit{{}, 1, std::to_string(i)});
      REQUIRE(r);
      last = r->position;
    }
  }
  actor_env env;
  interlock::runtime_settings small;
  small.read_batch = 3;  // many chunks, each re-queued behind other reads
  interlock::application_builder b{env.sys};
  register_bank(b).settings(small).sqlite(db);
  auto app = b.build();
  REQUIRE(app);
  auto tags = app->query([] { GetTags q; q.account_id = "acc-1"; return q; }(), {.after = last});
  REQUIRE(tags);
  CHECK(tags->size() == 33);
  CHECK(tags->front() == "1");
  auto overdraft = app->dispatch("acc-1", Withdraw{34});
  REQUIRE_FALSE(overdraft);
  CHECK(interlock::message_of(overdraft.error()) == "Insufficient funds: balance 33, requested 34");
  auto seen = app->query(GetSeen{});
  REQUIRE(seen);
  CHECK(seen->size() == 52);
}
