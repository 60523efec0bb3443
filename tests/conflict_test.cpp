// Optimistic concurrency through the whole runtime: two applications (as two
// nodes or processes would) share one SQLite file and one aggregate.
#include <catch2/catch.hpp>

#include <future>
#include <set>
#include <thread>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;
using interlock::errc;

namespace {
interlock::runtime_settings no_retries() {
  interlock::runtime_settings s;
  s.conflict_retries = 0;
  return s;
}

// Two applications, each in its own actor system, on one SQLite file.
struct two_apps {
  temp_dir dir;
  actor_env env_a, env_b;
  caf::expected<interlock::application> a, b;
  explicit two_apps(const interlock::runtime_settings& s = {})
      : a(start_bank(env_a.sys, dir.file("bank.db"), s)), b(start_bank(env_b.sys, dir.file("bank.db"), s)) {
    REQUIRE(a);
    REQUIRE(b);
  }
};

// Two applications on one account: a opens it, b reads it at version 1,
// then a deposits 100 behind b's back: b's next append conflicts. Appends
// wait 300 ms for company, so what b sends next commits together.
struct b_behind_a : two_apps {
  b_behind_a() : two_apps{slow_group_commit()} {
    REQUIRE(a->dispatch("acc", Open{"Alice"}));
    REQUIRE(b->dispatch("acc", Ping{1}));                    // b holds version 1, balance 0
    REQUIRE(a->dispatch("acc", Deposit{{}, 100, "from-a"}));  // version 2 behind b's back
  }
  static interlock::runtime_settings slow_group_commit() {
    interlock::runtime_settings s;
    s.group_commit_wait = std::chrono::milliseconds(300);
    return s;
  }
};

}  // namespace

TEST_CASE("conflict: without retries a stale aggregate gets errc::conflict, then catches up", "[conflict]") {
  two_apps apps{no_retries()};
  auto& a = apps.a;
  auto& b = apps.b;
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
  two_apps apps;
  auto& a = apps.a;
  auto& b = apps.b;
  REQUIRE(a->dispatch("acc", Open{"Alice"}));
  auto written = a->dispatch("acc", Deposit{{}, 42, "a"});
  REQUIRE(written);
  // b's projection never saw a's events live; asking for that position makes it read the journal.
  auto balance = b->query(GetBalance{"acc"}, {.after = written->position, .timeout = std::chrono::seconds(5)});
  REQUIRE(balance);
  CHECK(*balance == 42);
}

TEST_CASE("conflict: with retries (the default) a stale command is rerun on the reloaded state", "[conflict]") {
  two_apps apps;
  auto& a = apps.a;
  auto& b = apps.b;
  REQUIRE(a->dispatch("acc", Open{"Alice"}));
  REQUIRE(b->dispatch("acc", Ping{1}));                      // b holds version 1
  REQUIRE(a->dispatch("acc", Deposit{{}, 10, "from-a"}));    // version 2 behind b's back
  auto rerun = b->dispatch("acc", Deposit{{}, 5, "from-b"});  // conflicts, reloads, runs again
  REQUIRE(rerun);
  CHECK(rerun->version == 3);
  CHECK(rerun->value == 15);  // the handler saw a's deposit the second time
  // Now a's actor is the stale one (version 2, balance 10): its withdrawal
  // conflicts, is rerun on version 3, and the next one is judged against 12.
  auto withdrawal = a->dispatch("acc", Withdraw{3});
  REQUIRE(withdrawal);
  CHECK(withdrawal->version == 4);
  CHECK(a->dispatch("acc", Withdraw{12}));
  auto overdraft = a->dispatch("acc", Withdraw{1});
  REQUIRE_FALSE(overdraft);
  CHECK(interlock::message_of(overdraft.error()) == "Insufficient funds: balance 0, requested 1");
}

TEST_CASE("conflict: two applications writing one aggregate at once lose nothing", "[conflict]") {
  interlock::runtime_settings s;
  s.conflict_retries = 50;  // heavy contention on purpose
  two_apps apps{s};
  auto& a = apps.a;
  auto& b = apps.b;
  REQUIRE(a->dispatch("acc", Open{"Alice"}));
  std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> replies;
  for (int i = 0; i < 100; ++i) {
    replies.push_back(a->dispatch_async("acc", Deposit{{}, 1, "a" + std::to_string(i)}));
    replies.push_back(b->dispatch_async("acc", Deposit{{}, 1, "b" + std::to_string(i)}));
  }
  std::set<std::uint64_t> versions;
  for (auto& f : replies) {
    auto r = f.get();
    INFO((r ? "" : interlock::describe(r.error())));
    REQUIRE(r);
    versions.insert(r->version);
  }
  CHECK(versions.size() == 200);
  CHECK(*versions.begin() == 2);
  CHECK(*versions.rbegin() == 201);
  auto balance = a->query(GetBalance{"acc"}, {.after = 201, .timeout = std::chrono::seconds(10)});
  REQUIRE(balance);
  CHECK(*balance == 200);
}

TEST_CASE("conflict: batches sent while the first is in flight rest on it, and are rerun in order when it fails",
          "[conflict][batch]") {
  // The three deposits below reach the writer one by one and wait for one
  // commit together: the first conflicts, the two after it rest on it.
  b_behind_a apps;
  auto& a = apps.a;
  auto& b = apps.b;
  std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> replies;
  for (int i = 1; i <= 3; ++i) {
    replies.push_back(b->dispatch_async("acc", Deposit{{}, i, "b" + std::to_string(i)}));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // each its own batch
  }
  std::int64_t expected_balance = 100;
  std::uint64_t expected_version = 2;
  for (int i = 1; i <= 3; ++i) {
    auto r = replies[static_cast<std::size_t>(i - 1)].get();
    INFO((r ? "" : interlock::describe(r.error())));
    REQUIRE(r);
    expected_balance += i;
    CHECK(r->value == expected_balance);  // judged on a's deposit, and on the ones before it
    CHECK(r->version == ++expected_version);
  }
  auto balance = a->query(GetBalance{"acc"}, {.after = 5, .timeout = std::chrono::seconds(10)});
  REQUIRE(balance);
  CHECK(*balance == 106);
}

TEST_CASE("conflict: commands judged on events that failed to store are judged again, rejections and replies too",
          "[conflict][batch]") {
  b_behind_a apps;  // the three below wait for one commit together
  auto& a = apps.a;
  auto& b = apps.b;
  auto deposit = b->dispatch_async("acc", Deposit{{}, 50, "b"});  // conflicts; b's state says balance 50
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  // Rejected on b's unstored state (50 < 120), stores nothing: its answer
  // must wait for the deposit, and it must run again once that failed.
  auto withdraw = b->dispatch_async("acc", Withdraw{120});
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto ping = b->dispatch_async("acc", Ping{7});  // stores nothing either; it saw version 2
  auto d = deposit.get();
  INFO((d ? "" : interlock::describe(d.error())));
  REQUIRE(d);
  CHECK(d->value == 150);
  CHECK(d->version == 3);
  auto w = withdraw.get();
  INFO((w ? "" : interlock::describe(w.error())));
  REQUIRE(w);
  CHECK(w->version == 4);
  auto p = ping.get();
  REQUIRE(p);
  CHECK(p->value == "acc:7@4");
  auto balance = a->query(GetBalance{"acc"}, {.after = 4, .timeout = std::chrono::seconds(10)});
  REQUIRE(balance);
  CHECK(*balance == 30);
}
