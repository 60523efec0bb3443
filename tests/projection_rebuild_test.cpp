// rebuild() of a read model in memory: a new one is built beside the old,
// which goes on applying live events and answering queries, and replaces it
// once caught up; the caller is answered then.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;
using phase = interlock::projection_status::phase;
using namespace std::chrono_literals;

namespace {

std::atomic<int> made{0};                // read models made: 1 at start, 2 for the rebuild
std::atomic<bool> hold_rebuild{false};  // while set, the rebuilt read model's on() waits

struct WhichModel {
  using result_type = int;
};

// Balances that say which read model answers, and whose rebuilt copy can be held back.
struct HeldBalances {
  using events = interlock::types<Deposited>;
  using queries = interlock::types<GetBalance, WhichModel>;
  int serial = ++made;
  std::map<std::string, std::int64_t> balances;

  void on(const Deposited& e, const interlock::event_envelope& env) {
    while (serial > 1 && hold_rebuild.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    balances[env.aggregate_id] += e.amount;
  }
  std::int64_t handle(const GetBalance& q) const {
    auto it = balances.find(q.account_id);
    return it == balances.end() ? 0 : it->second;
  }
  int handle(const WhichModel&) const { return serial; }
};

interlock::projection_status status_of(interlock::application& app) {
  auto all = app.status();
  REQUIRE(all);
  return all->front();
}

}  // namespace

TEST_CASE("rebuild: the old read model answers and applies while the new one catches up, then is replaced",
          "[rebuild]") {
  made = 0;
  temp_dir dir;
  actor_env env;
  interlock::application_builder b{env.sys};
  b.sqlite(dir.file("bank.db")).aggregate<Account>().projection<HeldBalances>();
  auto app = b.build();
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"Ann"}));
  std::uint64_t last = 0;
  for (int i = 0; i < 3; ++i) last = app->dispatch("a", Deposit{{}, 10, "t"})->position;
  REQUIRE(app->query(GetBalance{"a"}, {.after = last}).value() == 30);

  hold_rebuild = true;
  auto rebuilt = std::async(std::launch::async, [&] { return app->rebuild<HeldBalances>(); });
  while (made.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(status_of(*app).state == phase::rebuilding);
  // Answered at once by the old read model, which also applies what comes meanwhile.
  CHECK(app->query(GetBalance{"a"}, {.timeout = std::chrono::milliseconds(500)}).value() == 30);
  last = app->dispatch("a", Deposit{{}, 5, "t"})->position;
  CHECK(app->query(GetBalance{"a"}, {.after = last, .timeout = std::chrono::milliseconds(500)}).value() == 35);
  CHECK(app->query(WhichModel{}).value() == 1);
  CHECK(rebuilt.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);

  hold_rebuild = false;
  REQUIRE_FALSE(rebuilt.get());
  CHECK(app->query(WhichModel{}).value() == 2);  // replaced, and it holds what the old one held
  CHECK(app->query(GetBalance{"a"}).value() == 35);
  CHECK(status_of(*app).state == phase::live);
  CHECK(status_of(*app).position == last);
  last = app->dispatch("a", Deposit{{}, 1, "t"})->position;  // and goes on live
  CHECK(app->query(GetBalance{"a"}, {.after = last}).value() == 36);
}

TEST_CASE("rebuild: two calls share one rebuild, and reset() is refused meanwhile", "[rebuild]") {
  made = 0;
  temp_dir dir;
  actor_env env;
  interlock::application_builder b{env.sys};
  b.sqlite(dir.file("bank.db")).aggregate<Account>().projection<HeldBalances>();
  auto app = b.build();
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"Ann"}));
  REQUIRE(app->dispatch("a", Deposit{{}, 10, "t"}));
  hold_rebuild = true;
  auto first = std::async(std::launch::async, [&] { return app->rebuild<HeldBalances>(); });
  while (made.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto second = std::async(std::launch::async, [&] { return app->rebuild<HeldBalances>(); });
  std::this_thread::sleep_for(100ms);  // its request reaches the projection while the first one is held
  REQUIRE_FALSE(app->pause<HeldBalances>());
  auto refused = app->reset<HeldBalances>(0);
  CHECK(interlock::describe(refused) ==
        "unavailable: projection HeldBalances is being rebuilt: reset() it once rebuild() returns");
  hold_rebuild = false;
  CHECK_FALSE(first.get());
  CHECK_FALSE(second.get());
  CHECK(made.load() == 2);  // one rebuild
  CHECK(status_of(*app).state == phase::paused);
  REQUIRE_FALSE(app->resume<HeldBalances>());
  CHECK(app->query(GetBalance{"a"}).value() == 10);
}
