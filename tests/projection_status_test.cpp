// application::status(): what each projection is doing, read without a
// message (runtime/status.hpp).
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;
using interlock::errc;
using interlock::projection_status;
using phase = interlock::projection_status::phase;

namespace {

struct Fragile {  // stops at a deposit tagged "boom"
  using events = interlock::types<Deposited>;
  using queries = interlock::types<>;
  void on(const Deposited& e) {
    if (e.tag == "boom") throw std::runtime_error("boom went the projection");
  }
};

projection_status status_of(interlock::application& app, const std::string& name) {
  auto all = app.status();
  REQUIRE(all);
  for (auto& s : *all)
    if (s.name == name) return s;
  FAIL("no projection named " << name);
  return {};
}

// Polls until `name` is in phase `p` (catch-up and live delivery are asynchronous).
projection_status wait_for(interlock::application& app, const std::string& name, phase p) {
  for (int i = 0; i < 500; ++i) {
    auto s = status_of(app, name);
    if (s.state == p) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL(name << " never reached phase " << interlock::to_string(p));
  return {};
}

}  // namespace

TEST_CASE("status: every projection, live at the journal's end, with its position and rate", "[status]") {
  temp_dir dir;
  actor_env env;
  auto app = start_bank(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"Ann"}));
  auto last = app->dispatch("a", Deposit{{}, 10, "x"});
  REQUIRE(last);
  REQUIRE(app->query(GetBalance{"a"}, {.after = last->position}));  // Balances has applied it

  auto all = app->status();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name == "Balances");  // registration order
  CHECK((*all)[1].name == "Audit");
  auto s = wait_for(*app, "Balances", phase::live);
  CHECK(s.position == last->position);
  CHECK(s.lag_events == 0);
  CHECK(s.lag_seconds == 0);
  CHECK(s.events_per_s > 0);
  CHECK(s.waiting_queries == 0);
  CHECK(s.failure.empty());
  CHECK(std::string{interlock::to_string(s.state)} == "live");
}

TEST_CASE("status: after a restart a projection catches up to the journal's end", "[status]") {
  temp_dir dir;
  std::uint64_t last_position = 0;
  {
    actor_env env;
    auto app = start_bank(env.sys, dir.file("bank.db"));
    REQUIRE(app);
    for (int i = 0; i < 5; ++i) REQUIRE(app->dispatch("acc-" + std::to_string(i), Open{"Ann"}));
    for (int i = 0; i < 50; ++i) {
      auto r = app->dispatch("acc-" + std::to_string(i % 5), Deposit{{}, 1, ""});
      REQUIRE(r);
      last_position = r->position;
    }
  }
  actor_env env;
  auto app = start_bank(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  auto s = wait_for(*app, "Audit", phase::live);
  CHECK(s.position == last_position);
  CHECK(s.lag_events == 0);
}

TEST_CASE("status: a failed projection says what stopped it", "[status]") {
  actor_env env;
  interlock::application_builder b{env.sys};
  b.aggregate<Account>().projection<Fragile>().in_memory();
  auto app = b.build();
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"Ann"}));
  REQUIRE(app->dispatch("a", Deposit{{}, 1, "fine"}));
  REQUIRE(app->dispatch("a", Deposit{{}, 2, "boom"}));
  auto s = wait_for(*app, "Fragile", phase::failed);
  CHECK(s.position == 2);  // the event before the one that threw
  CHECK(s.failure.find("boom went the projection") != std::string::npos);
  CHECK(s.failure.find("stream Account/a version 3 type Deposited") != std::string::npos);
}

TEST_CASE("status: queries waiting for a position are counted, and after a stop there is none", "[status]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"Ann"}));
  wait_for(*app, "Balances", phase::live);
  auto waiting = app->query_async(GetBalance{"a"}, {.after = 1'000'000, .timeout = std::chrono::milliseconds{300}});
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    seen = status_of(*app, "Balances").waiting_queries == 1;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(seen);
  auto answer = waiting.get();
  CHECK(interlock::is(answer.error(), errc::timeout));
  CHECK(status_of(*app, "Balances").waiting_queries == 0);
  app->stop();
  auto after = app->status();
  REQUIRE(!after);
  CHECK(interlock::is(after.error(), errc::unavailable));
}
