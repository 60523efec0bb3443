// Optimistic concurrency through the whole runtime: two applications (as two
// nodes or processes would) share one SQLite file and one aggregate.
#include <catch2/catch.hpp>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;
using interlock::errc;

TEST_CASE("conflict: a stale aggregate gets errc::conflict, then catches up", "[conflict]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  actor_env env_a, env_b;
  auto a = start_bank(env_a.sys, db);
  auto b = start_bank(env_b.sys, db);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->dispatch("acc", Open{"Alice"}));
  auto loaded = b->dispatch("acc", Ping{1});  // b's actor now holds the account at version 1
  REQUIRE(loaded);
  CHECK(loaded->value == "acc:1@1");

  REQUIRE(a->dispatch("acc", Deposit{{}, 10, "from-a"}));  // version 2, behind b's back

  auto stale = b->dispatch("acc", Deposit{{}, 5, "from-b"});
  REQUIRE_FALSE(stale);
  CHECK(interlock::describe(stale.error()) == "conflict: stream 'Account/acc' is at version 2, expected version 1");

  auto retried = b->dispatch("acc", Deposit{{}, 5, "from-b"});  // b re-read the stream after the conflict
  REQUIRE(retried);
  CHECK(retried->version == 3);
  CHECK(retried->value == 15);
  auto from_a = a->dispatch("acc", Withdraw{1});  // and now a is the stale one
  REQUIRE_FALSE(from_a);
  CHECK(interlock::is(from_a.error(), errc::conflict));
  auto overdraft = a->dispatch("acc", Withdraw{16});
  REQUIRE_FALSE(overdraft);
  CHECK(interlock::message_of(overdraft.error()) == "Insufficient funds: balance 15, requested 16");
}

TEST_CASE("conflict: read-your-writes across two applications on one file", "[conflict]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  actor_env env_a, env_b;
  auto a = start_bank(env_a.sys, db);
  auto b = start_bank(env_b.sys, db);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->dispatch("acc", Open{"Alice"}));
  auto written = a->dispatch("acc", Deposit{{}, 42, "a"});
  REQUIRE(written);
  // b's projection never saw a's events live; asking for that position makes it read the journal.
  auto balance = b->query(GetBalance{"acc"}, {.after = written->position, .timeout = std::chrono::seconds(5)});
  REQUIRE(balance);
  CHECK(*balance == 42);
}
