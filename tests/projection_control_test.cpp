// Pausing, resuming and resetting projections (application::pause, resume,
// reset), in memory and durable.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "durable_rows.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testbank;
using namespace testing_support;
using Catch::Matchers::Contains;
using interlock::errc;
using phase = interlock::projection_status::phase;

namespace {

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db) {
  interlock::application_builder b{sys};
  b.sqlite(db).aggregate<Account>().projection<Balances>().projection<CountedBalances>();
  return b.build();
}

interlock::projection_status status_of(interlock::application& app, const std::string& name) {
  auto all = app.status();
  REQUIRE(all);
  for (auto& s : *all)
    if (s.name == name) return s;
  FAIL("no projection " << name);
  return {};
}

std::uint64_t deposit(interlock::application& app, const std::string& id, int times) {
  std::uint64_t last = 0;
  for (int i = 0; i < times; ++i) {
    auto r = app.dispatch(id, Deposit{{}, 10, "t"});
    REQUIRE(r);
    last = r->position;
  }
  return last;
}

}  // namespace

TEST_CASE("control: a paused projection applies nothing and answers from what it has, resumed, it catches up",
          "[control]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"Ann"}));
  auto first = deposit(*app, "a", 2);
  REQUIRE(app->query(GetBalance{"a"}, {.after = first}).value() == 20);
  REQUIRE(app->query(CountedEvents{}, {.after = first}).value() == 3);

  REQUIRE_FALSE(app->pause<Balances>());
  REQUIRE_FALSE(app->pause<CountedBalances>());
  CHECK(status_of(*app, "Balances").state == phase::paused);
  CHECK(status_of(*app, "CountedBalances").state == phase::paused);
  auto last = deposit(*app, "a", 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // live events had time to arrive
  CHECK(app->query(GetBalance{"a"}).value() == 20);
  CHECK(app->query(CountedEvents{}).value() == 3);
  auto waiting = app->query(GetBalance{"a"}, {.after = last, .timeout = std::chrono::milliseconds(100)});
  REQUIRE_FALSE(waiting);
  CHECK(interlock::is(waiting.error(), errc::timeout));
  CHECK(status_of(*app, "Balances").position == first);
  CHECK(status_of(*app, "Balances").lag_events == last - first);

  REQUIRE_FALSE(app->resume<Balances>());
  REQUIRE_FALSE(app->resume<CountedBalances>());
  CHECK(app->query(GetBalance{"a"}, {.after = last}).value() == 50);
  CHECK(app->query(CountedEvents{}, {.after = last}).value() == 6);
  CHECK(status_of(*app, "Balances").state == phase::live);
  CHECK(status_of(*app, "CountedBalances").state == phase::live);
}

TEST_CASE("control: reset moves a paused projection, what comes after the position is applied", "[control]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"Ann"}));  // position 1
  auto last = deposit(*app, "a", 4);         // positions 2-5
  REQUIRE(app->query(CountedEvents{}, {.after = last}).value() == 5);

  auto err = app->reset<Balances>(3);
  REQUIRE(err);
  CHECK(interlock::is(err, errc::invalid_argument));
  CHECK_THAT(interlock::message_of(err), Contains("not paused"));

  REQUIRE_FALSE(app->pause<Balances>());
  REQUIRE_FALSE(app->pause<CountedBalances>());
  err = app->reset<Balances>(last + 100);
  REQUIRE(err);
  CHECK_THAT(interlock::message_of(err), Contains("past the journal's last position " + std::to_string(last)));

  // In memory: the read model starts empty at position 3.
  REQUIRE_FALSE(app->reset<Balances>(3));
  CHECK(status_of(*app, "Balances").position == 3);
  CHECK(app->query(GetBalance{"a"}).value() == 0);
  REQUIRE_FALSE(app->resume<Balances>());
  CHECK(app->query(GetBalance{"a"}, {.after = last}).value() == 20);  // positions 4 and 5

  // Durable: the tables stay, the checkpoint moves; positions 4 and 5 are applied again.
  REQUIRE_FALSE(app->reset<CountedBalances>(3));
  CHECK(raw_db{dir.file("bank.read.db")}.rows("SELECT position FROM projection_checkpoints WHERE projection = "
                                              "'CountedBalances'") == std::vector<std::string>{"3"});
  REQUIRE_FALSE(app->resume<CountedBalances>());
  CHECK(app->query(CountedEvents{}, {.after = last}).value() == 7);
}
