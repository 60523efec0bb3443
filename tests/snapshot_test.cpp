// Snapshots: written with the events that cross the threshold, loaded as
// snapshot + tail, kept K per stream, and never trusted when they cannot be
// used (fall back to a full replay, said once in the log).
#include <catch2/catch.hpp>

#include <random>

#include "ledger_domain.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testledger;
using namespace testing_support;

namespace {

interlock::runtime_settings ledger_settings(const std::string& db, std::uint64_t snapshot_every) {
  interlock::runtime_settings s;
  s.database_path = db;
  s.snapshot_every = snapshot_every;
  s.snapshot_keep = 2;
  return s;
}

template <class T = Ledger>
caf::expected<interlock::application> start(caf::actor_system& sys, const interlock::runtime_settings& s) {
  return interlock::application_builder{sys}.aggregate<T>().settings(s).build();
}

// The live actor's state, as the aggregate itself describes it.
std::string describe(interlock::application& app, const std::string& id) {
  auto r = app.dispatch(id, Describe{});
  REQUIRE(r);
  return r->value;
}

std::vector<std::string> snapshot_rows(const std::string& db) {
  return raw_db{db}.rows("SELECT version || ':' || state_version FROM snapshots ORDER BY version");
}

// Captures the runtime's log lines for one test.
struct log_capture {
  std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
  log_capture() {
    interlock::set_log_sink([l = lines](interlock::log_level, std::string_view line) { l->emplace_back(line); });
  }
  ~log_capture() { interlock::set_log_sink(nullptr); }
};

}  // namespace

TEST_CASE("snapshots: state from snapshot + tail equals a full replay, for random streams", "[snapshot]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  std::mt19937 rng{GENERATE(1u, 2u, 3u, 4u, 5u)};
  const std::uint64_t every = std::uniform_int_distribution<std::uint64_t>{1, 9}(rng);
  INFO("snapshot every " << every);
  std::vector<std::string> ids{"a", "b", "c"};
  std::map<std::string, std::string> live;
  {
    actor_env env;
    auto app = start(env.sys, ledger_settings(db, every));
    REQUIRE(app);
    const int commands = std::uniform_int_distribution<int>{5, 40}(rng);
    for (int i = 0; i < commands; ++i) {
      const auto& id = ids[rng() % ids.size()];
      Add add{std::uniform_int_distribution<std::int64_t>{-50, 50}(rng), std::uniform_int_distribution<int>{1, 4}(rng)};
      if (add.amount == 0) add.amount = 1;
      REQUIRE(app->dispatch(id, add));
    }
    for (auto& id : ids) live[id] = describe(*app, id);
  }
  CHECK_FALSE(snapshot_rows(db).empty());
  for (std::uint64_t reload_every : {std::uint64_t{0}, every}) {  // 0: full replay, snapshots ignored
    actor_env env;
    auto app = start(env.sys, ledger_settings(db, reload_every));
    REQUIRE(app);
    for (auto& id : ids) {
      INFO("reloaded with snapshot_every " << reload_every << ", aggregate " << id);
      CHECK(describe(*app, id) == live[id]);
      auto loaded = app->load_as_of<Ledger>(id);
      REQUIRE(loaded);
      CHECK(loaded->state.text() == live[id]);
    }
  }
}

TEST_CASE("snapshots: written in the transaction that crosses the threshold, the newest K kept", "[snapshot]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  actor_env env;
  auto app = start<SnappyLedger>(env.sys, ledger_settings(db, 0));  // the type's own policy: every 4, keep 3
  REQUIRE(app);
  REQUIRE(app->dispatch("x", Add{1, 3}));  // versions 1..3: below the threshold
  CHECK(snapshot_rows(db).empty());
  REQUIRE(app->dispatch("x", Add{1, 2}));  // 4..5 crosses 4: a snapshot of the state at 5
  CHECK(snapshot_rows(db) == std::vector<std::string>{"5:2"});
  for (int i = 0; i < 4; ++i) REQUIRE(app->dispatch("x", Add{1, 4}));  // 9, 13, 17, 21: each crosses
  CHECK(snapshot_rows(db) == std::vector<std::string>{"13:2", "17:2", "21:2"});
  auto state = raw_db{db}.rows("SELECT state FROM snapshots WHERE version = 21");
  REQUIRE(state.size() == 1);
  CHECK(nlohmann::json::parse(state[0])["total"] == 21);
}

TEST_CASE("snapshots: recovery really starts from the snapshot, then applies the tail", "[snapshot]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  {
    actor_env env;
    auto app = start(env.sys, ledger_settings(db, 5));
    REQUIRE(app);
    REQUIRE(app->dispatch("x", Add{10, 5}));  // snapshot at 5 (total 50)
    REQUIRE(app->dispatch("x", Add{1, 2}));   // tail: 6, 7
  }
  // Doctor the snapshot: a state that no replay could produce shows it was used.
  raw_db{db}.exec(R"(UPDATE snapshots SET state = '{"total":1000,"history":[7]}')");
  actor_env env;
  auto app = start(env.sys, ledger_settings(db, 5));
  REQUIRE(app);
  CHECK(describe(*app, "x") == "v7 total 1002 [7,1,1,]");
  auto replayed = start(env.sys, ledger_settings(db, 0));  // no snapshots: a full replay
  REQUIRE(replayed);
  CHECK(replayed->load_as_of<Ledger>("x")->state.text() == "v7 total 52 [10,10,10,10,10,1,1,]");
}

TEST_CASE("snapshots: an unusable snapshot falls back to a full replay and says so once", "[snapshot]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  {
    actor_env env;
    auto app = start(env.sys, ledger_settings(db, 2));
    REQUIRE(app);
    for (auto id : {"x", "y"}) REQUIRE(app->dispatch(id, Add{3, 5}));
  }
  const auto* damage = GENERATE(
      "UPDATE snapshots SET state = 'not json'",                // does not decode
      "UPDATE snapshots SET state = '{\"total\":\"many\"}'",    // decodes to the wrong type
      "UPDATE snapshots SET state_version = 0");                // written by an older state schema
  INFO(damage);
  raw_db{db}.exec(damage);
  log_capture log;
  actor_env env;
  auto app = start(env.sys, ledger_settings(db, 2));
  REQUIRE(app);
  CHECK(describe(*app, "x") == "v5 total 15 [3,3,3,3,3,]");
  CHECK(describe(*app, "y") == "v5 total 15 [3,3,3,3,3,]");
  auto mentions = std::count_if(log.lines->begin(), log.lines->end(), [](const std::string& l) {
    return l.find("full replay") != std::string::npos && l.find("Ledger") != std::string::npos;
  });
  CHECK(mentions == 1);
  REQUIRE(app->dispatch("x", Add{1}));  // and the aggregate goes on from the right version
  CHECK(describe(*app, "x") == "v6 total 16 [3,3,3,3,3,1,]");
}

TEST_CASE("snapshots: the in-memory journal keeps and loads them too", "[snapshot]") {
  actor_env env;
  auto settings = ledger_settings("", 3);
  settings.in_memory = true;
  auto app = start(env.sys, settings);
  REQUIRE(app);
  REQUIRE(app->dispatch("m", Add{2, 7}));
  auto loaded = app->load_as_of<Ledger>("m");
  REQUIRE(loaded);
  CHECK(loaded->state.text() == "v7 total 14 [2,2,2,2,2,2,2,]");
  CHECK(loaded->last->version == 7);
}
