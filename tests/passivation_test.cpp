// Passivation: idle aggregate actors stop, the least recently used stop first
// when there are more than max_live_aggregates, and the next command recovers
// them transparently. Nothing routed to a stopping actor is lost.
#include <catch2/catch.hpp>

#include <interlock/runtime/detail/application_access.hpp>

#include <future>
#include <thread>

#include <interlock/actors/aggregate_directory.hpp>
#include <interlock/runtime/actor_api.hpp>

#include "ledger_domain.hpp"
#include "test_support.hpp"

using namespace testledger;
using namespace testing_support;

namespace {

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db,
                                            std::size_t max_live, std::chrono::milliseconds idle) {
  interlock::runtime_settings s;
  s.database_path = db;
  s.max_live_aggregates = max_live;
  s.passivate_after = idle;
  s.snapshot_every = 3;  // recovery after passivation goes through snapshot + tail too
  return interlock::application_builder{sys}.aggregate<Ledger>().settings(s).build();
}

using reply_future = std::future<caf::expected<interlock::receipt<std::int64_t>>>;

void require_all(std::vector<reply_future>& futures) {
  for (auto& f : futures) {
    auto r = f.get();
    INFO((r ? "" : interlock::describe(r.error())));
    REQUIRE(r);
  }
  futures.clear();
}

}  // namespace

TEST_CASE("passivation: tens of thousands of aggregates under a small cap", "[passivation]") {
  temp_dir dir;
  actor_env env;
  const std::size_t cap = 100, aggregates = 20'000;
  auto app = start(env.sys, dir.file("ledger.db"), cap, std::chrono::minutes{5});
  REQUIRE(app);
  std::vector<reply_future> futures;
  for (int round = 1; round <= 2; ++round) {
    for (std::size_t i = 0; i < aggregates; ++i) {
      futures.push_back(app->dispatch_async("agg-" + std::to_string(i), Add{static_cast<std::int64_t>(i + 1)}));
      if (futures.size() == 512) require_all(futures);
    }
    require_all(futures);
    auto live = app->live_aggregates();
    REQUIRE(live);
    CHECK(*live <= cap + 512);  // the cap, plus actors still finishing their last command
  }
  // Every aggregate was passivated after round 1 and recovered in round 2.
  for (std::size_t i : {std::size_t{0}, aggregates / 2, aggregates - 1}) {
    auto d = app->dispatch("agg-" + std::to_string(i), Describe{});
    REQUIRE(d);
    const auto v = std::to_string(i + 1);
    CHECK(d->value == "v2 total " + std::to_string(2 * (i + 1)) + " [" + v + "," + v + ",]");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(*app->live_aggregates() <= cap);
}

TEST_CASE("passivation: commands in flight while their actor is passivated are all served", "[passivation]") {
  temp_dir dir;
  actor_env env;
  // Cap 1 and two aggregates taking turns: every command passivates the other one.
  auto app = start(env.sys, dir.file("ledger.db"), 1, std::chrono::minutes{5});
  REQUIRE(app);
  std::vector<reply_future> futures;
  const int per_aggregate = 500;
  for (int i = 0; i < per_aggregate; ++i)
    for (auto id : {"a", "b"}) futures.push_back(app->dispatch_async(id, Add{1}));
  std::map<std::string, std::vector<std::uint64_t>> versions;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    auto r = futures[i].get();
    INFO((r ? "" : interlock::describe(r.error())));
    REQUIRE(r);
    versions[r->aggregate_id].push_back(r->version);
  }
  for (auto id : {"a", "b"}) {
    auto& v = versions[id];
    REQUIRE(v.size() == per_aggregate);
    for (int i = 0; i < per_aggregate; ++i) CHECK(v[i] == static_cast<std::uint64_t>(i + 1));
    auto loaded = app->load_as_of<Ledger>(id);
    REQUIRE(loaded);
    CHECK(loaded->state.total == per_aggregate);
  }
}

TEST_CASE("passivation: an idle actor stops and the next command brings it back", "[passivation]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("ledger.db"), 0, std::chrono::milliseconds{40});
  REQUIRE(app);
  REQUIRE(app->dispatch("x", Add{5, 4}));
  CHECK(*app->live_aggregates() == 1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (*app->live_aggregates() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(*app->live_aggregates() == 0);
  auto r = app->dispatch("x", Add{1});
  REQUIRE(r);
  CHECK(r->version == 5);
  CHECK(r->value == 21);
}

TEST_CASE("passivation: passivate_after 0 and no cap keep every actor", "[passivation]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("ledger.db"), 0, std::chrono::milliseconds{0});
  REQUIRE(app);
  for (int i = 0; i < 50; ++i) REQUIRE(app->dispatch("k" + std::to_string(i), Add{1}));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(*app->live_aggregates() == 50);
}

TEST_CASE("passivation: an actor slow to stop is named in the log, and its waiting commands are served",
          "[passivation]") {
  temp_dir dir;
  std::mutex m;
  std::vector<std::string> warnings;
  interlock::set_log_sink([&](interlock::log_level level, std::string_view line) {
    std::lock_guard lock{m};
    if (level == interlock::log_level::warning) warnings.emplace_back(line);
  });
  {
    actor_env env;
    interlock::runtime_settings s;
    s.database_path = dir.file("ledger.db");
    s.max_live_aggregates = 1;
    s.journal_timeout = std::chrono::milliseconds{100};  // a stop slower than this is reported
    auto app = interlock::application_builder{env.sys}.aggregate<Ledger>().settings(s).build();
    REQUIRE(app);
    auto busy = app->dispatch_async("a", Pause{2500});          // a is busy for 2.5 s (two sweeps)...
    REQUIRE(app->dispatch("b", Add{1}));                        // ...when b's actor passivates it
    auto waiting = app->dispatch_async("a", Add{2});            // waits for a's actor to stop
    REQUIRE(busy.get());
    auto served = waiting.get();
    REQUIRE(served);
    CHECK(served->value == 2);
  }
  interlock::set_log_sink(nullptr);
  std::lock_guard lock{m};
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Matchers::Contains("aggregate Ledger/a was passivated") &&
                              Catch::Matchers::Contains("has not stopped; 1 commands wait for it"));
}

TEST_CASE("passivation: the cap spares an actor used directly, bypassing the router", "[passivation]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("ledger.db"), 2, std::chrono::minutes{5});
  REQUIRE(app);
  REQUIRE(interlock::detail::application_access::directory(*app));
  REQUIRE(app->dispatch("a", Add{1}));
  REQUIRE(app->dispatch("b", Add{1}));
  auto listed = [&](const char* id) { return interlock::detail::application_access::directory(*app)->listed("Ledger", id); };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!(listed("a") && listed("b")) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(listed("a"));
  REQUIRE(listed("b"));
  REQUIRE(app->dispatch("a", Add{1}));  // straight to a's actor: the router did not see it
  REQUIRE(app->dispatch("c", Add{1}));  // over the cap: b is the least recently used
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (listed("a") && listed("b") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(listed("a"));
  CHECK_FALSE(listed("b"));
  CHECK(listed("c"));
}

TEST_CASE("passivation: with middleware every command passes the router", "[passivation]") {
  temp_dir dir;
  actor_env env;
  interlock::runtime_settings s;
  s.database_path = dir.file("ledger.db");
  auto app = interlock::application_builder{env.sys}
                 .aggregate<Ledger>()
                 .settings(s)
                 .use(interlock::logging_middleware(interlock::log_level::debug))
                 .build();
  REQUIRE(app);
  CHECK(interlock::detail::application_access::directory(*app) == nullptr);
  REQUIRE(app->dispatch("a", Add{1}));
  CHECK(app->dispatch("a", Add{2})->value == 3);
}

namespace {

// Each reply's version, by the index of the command it answers.
struct sender_log {
  std::map<std::string, std::vector<std::pair<int, std::uint64_t>>> versions;  // by aggregate id
  std::string error;
};

// An actor that sends `n` Add commands to each of "a" and "b", alternating,
// without waiting, and reports the replies when all have come.
std::future<sender_log> start_sender(caf::actor_system& sys, interlock::application& app, int n) {
  auto done = std::make_shared<std::promise<sender_log>>();
  auto future = done->get_future();
  sys.spawn([&app, done, n](caf::event_based_actor* self) {
    auto log = std::make_shared<sender_log>();
    auto left = std::make_shared<int>(2 * n);
    for (int i = 0; i < n; ++i)
      for (std::string id : {"a", "b"})
        interlock::async_dispatch(self, app, id, Add{1},
                                  [=](caf::expected<interlock::receipt<std::int64_t>> r) {
                                    if (r) log->versions[id].emplace_back(i, r->version);
                                    else log->error = interlock::describe(r.error());
                                    if (--*left == 0) {
                                      done->set_value(*log);
                                      self->quit();
                                    }
                                  });
  });
  return future;
}

}  // namespace

TEST_CASE("passivation: each sender's commands keep their order while actors start and stop", "[passivation]") {
  temp_dir dir;
  actor_env env;
  // Cap 1 and two aggregates: the actors stop and start all the time, so
  // commands go direct, through the router, and wait for stopping actors.
  auto app = start(env.sys, dir.file("ledger.db"), 1, std::chrono::minutes{5});
  REQUIRE(app);
  const int per_aggregate = 300;
  auto first = start_sender(env.sys, *app, per_aggregate);
  auto second = start_sender(env.sys, *app, per_aggregate);
  for (auto* f : {&first, &second}) {
    auto log = f->get();
    INFO(log.error);
    REQUIRE(log.error.empty());
    for (auto id : {"a", "b"}) {
      auto v = log.versions[id];
      REQUIRE(v.size() == per_aggregate);
      std::sort(v.begin(), v.end());  // by command index
      for (std::size_t i = 1; i < v.size(); ++i) CHECK(v[i - 1].second < v[i].second);
    }
  }
  for (auto id : {"a", "b"}) CHECK(app->load_as_of<Ledger>(id)->state.total == 2 * per_aggregate);
}
