// load_as_of: an aggregate's state at a stream version or a moment, read-only,
// with the envelope of the last event applied; the live actor is untouched.
#include <catch2/catch.hpp>

#include <thread>

#include "ledger_domain.hpp"
#include "test_support.hpp"

using namespace testledger;
using namespace testing_support;
using interlock::as_of;

namespace {

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db, std::uint64_t every) {
  interlock::runtime_settings s;
  s.database_path = db;
  s.snapshot_every = every;
  return interlock::application_builder{sys}.aggregate<Ledger>().settings(s).build();
}

}  // namespace

TEST_CASE("time travel: state as of a stream version", "[time_travel]") {
  temp_dir dir;
  actor_env env;
  const std::uint64_t every = GENERATE(0, 3);  // with snapshots, the one at or below the bound is used
  INFO("snapshot every " << every);
  auto app = start(env.sys, dir.file("ledger.db"), every);
  REQUIRE(app);
  for (std::int64_t amount = 1; amount <= 8; ++amount) REQUIRE(app->dispatch("x", Add{amount}));

  auto at5 = app->load_as_of<Ledger>("x", as_of::version(5));
  REQUIRE(at5);
  CHECK(at5->state.text() == "v5 total 15 [1,2,3,4,5,]");
  REQUIRE(at5->last);
  CHECK(at5->last->version == 5);
  CHECK(at5->last->event_type == "Added");
  CHECK(at5->last->aggregate_id == "x");

  auto beyond = app->load_as_of<Ledger>("x", as_of::version(100));
  REQUIRE(beyond);
  CHECK(beyond->state.version() == 8);

  auto before = app->load_as_of<Ledger>("x", as_of::version(0));
  REQUIRE(before);
  CHECK(before->state.text() == "v0 total 0 []");
  CHECK_FALSE(before->last);

  auto unknown = app->load_as_of<Ledger>("nobody");
  REQUIRE(unknown);
  CHECK(unknown->state.version() == 0);

  // The live actor was not involved: it goes on from version 8.
  auto next = app->dispatch("x", Add{100});
  REQUIRE(next);
  CHECK(next->version == 9);
  CHECK(next->value == 136);
}

TEST_CASE("time travel: state as of a moment", "[time_travel]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("ledger.db"), 2);
  REQUIRE(app);
  REQUIRE(app->dispatch("x", Add{1, 3}));
  auto first = app->load_as_of<Ledger>("x");
  REQUIRE(first);
  REQUIRE(first->last);
  const auto committed_at = first->last->recorded_at_us;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(app->dispatch("x", Add{10, 2}));

  auto at = [&](std::int64_t us) {
    auto r = app->load_as_of<Ledger>("x", as_of{std::numeric_limits<std::uint64_t>::max(), us});
    REQUIRE(r);
    return r->state.text();
  };
  CHECK(at(committed_at) == "v3 total 3 [1,1,1,]");
  CHECK(at(committed_at - 1) == "v0 total 0 []");
  CHECK(at(std::numeric_limits<std::int64_t>::max()) == "v5 total 23 [1,1,1,10,10,]");
  auto now = app->load_as_of<Ledger>("x", as_of::time(std::chrono::system_clock::now()));
  REQUIRE(now);
  CHECK(now->state.version() == 5);
}

TEST_CASE("time travel: errors name what was wrong", "[time_travel]") {
  temp_dir dir;
  actor_env env;
  auto app = interlock::application_builder{env.sys}.in_memory().build();  // Ledger not registered
  REQUIRE(app);
  auto r = app->load_as_of<Ledger>("x");
  REQUIRE_FALSE(r);
  CHECK(interlock::message_of(r.error()) == "no aggregate type Ledger is registered");
}
