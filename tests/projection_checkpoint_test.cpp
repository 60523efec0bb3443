// Checkpointed projections: a read model that keeps snapshots
// (snapshot_every) restarts from its snapshot and applies only the journal
// after it; a snapshot it cannot use is ignored and logged, and the read
// model rebuilt from position 0. Real files, real restarts.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <interlock/core/log.hpp>
#include <interlock/persistence/sqlite_read_store.hpp>

#include "bank_domain.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testbank;
using namespace testing_support;
using Catch::Matchers::Contains;

namespace {

std::atomic<int> deposits_applied{0};  // Totals::on() calls, in every instance

struct SumOfDeposits : interlock::query<std::int64_t> {};
struct DepositsOf : interlock::query<std::int64_t> {
  std::string account_id;
};

struct Totals {
  static constexpr std::uint64_t snapshot_every = 10;
  using events = interlock::types<Deposited>;
  using queries = interlock::types<SumOfDeposits, DepositsOf>;

  std::map<std::string, std::int64_t> by_account;
  std::int64_t sum = 0;

  void on(const Deposited& e, const interlock::event_envelope& env) {
    by_account[env.aggregate_id] += e.amount;
    sum += e.amount;
    ++deposits_applied;
  }
  std::int64_t handle(const SumOfDeposits&) const { return sum; }
  std::int64_t handle(const DepositsOf& q) const {
    auto it = by_account.find(q.account_id);
    return it == by_account.end() ? 0 : it->second;
  }
};

INTERLOCK_JSON(DepositsOf, account_id)
INTERLOCK_JSON(Totals, by_account, sum)

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db,
                                            interlock::runtime_settings settings = {}) {
  interlock::application_builder b{sys};
  b.settings(settings).sqlite(db);
  b.aggregate<Account>().projection<Totals>().projection<Balances>();
  return b.build();
}

struct history {
  std::int64_t sum = 0;
  std::uint64_t last_position = 0;
  std::map<std::string, std::int64_t> by_account;
};

// Opens three accounts and deposits 1, 2, ... `deposits` times among them.
history deposit(interlock::application& app, int deposits, history h = {}) {
  const std::string ids[] = {"a", "b", "c"};
  if (h.last_position == 0)
    for (auto& id : ids) REQUIRE(app.dispatch(id, Open{"owner " + id}));
  for (int i = 1; i <= deposits; ++i) {
    const auto& id = ids[i % 3];
    auto r = app.dispatch(id, Deposit{{}, i, "t"});
    REQUIRE(r);
    h.sum += i;
    h.by_account[id] += i;
    h.last_position = r->position;
  }
  return h;
}

std::int64_t sum_after(interlock::application& app, std::uint64_t position) {
  auto sum = app.query(SumOfDeposits{}, {.after = position});
  REQUIRE(sum);
  return *sum;
}

std::uint64_t checkpoint_of(interlock::application& app, const std::string& name) {
  auto all = app.status();
  REQUIRE(all);
  for (auto& s : *all)
    if (s.name == name) return s.checkpoint;
  FAIL("no projection " << name);
  return 0;
}

// The log lines written while it lives.
struct captured_log {
  std::mutex mutex;
  std::vector<std::string> lines;
  captured_log() {
    interlock::set_log_sink([this](interlock::log_level, std::string_view line) {
      std::lock_guard<std::mutex> lock{mutex};
      lines.emplace_back(line);
    });
  }
  ~captured_log() { interlock::set_log_sink(nullptr); }
  std::vector<std::string> containing(const std::string& part) {
    std::lock_guard<std::mutex> lock{mutex};
    std::vector<std::string> out;
    for (auto& l : lines)
      if (l.find(part) != std::string::npos) out.push_back(l);
    return out;
  }
};

void save_checkpoint(const std::string& read_store_path, interlock::projection_checkpoint cp) {
  auto store = interlock::open_sqlite_read_store(read_store_path);
  REQUIRE(store);
  REQUIRE_FALSE((*store)->save_checkpoint("Totals", cp));
}

}  // namespace

TEST_CASE("checkpoint: a clean stop stores the read model, a restart applies nothing it has seen", "[checkpoint]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  history h;
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    h = deposit(*app, 25);
    CHECK(sum_after(*app, h.last_position) == h.sum);
  }
  raw_db raw{dir.file("bank.read.db")};  // beside the journal
  CHECK(raw.rows("SELECT projection, position, state_version FROM projection_checkpoints") ==
        std::vector<std::string>{"Totals|" + std::to_string(h.last_position) + "|1"});

  deposits_applied = 0;
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  CHECK(sum_after(*app, h.last_position) == h.sum);
  CHECK(deposits_applied == 0);  // all of it came from the snapshot
  CHECK(checkpoint_of(*app, "Totals") == h.last_position);
  h = deposit(*app, 3, h);
  CHECK(sum_after(*app, h.last_position) == h.sum);
  CHECK(deposits_applied == 3);
  for (auto& [id, amount] : h.by_account) CHECK(app->query(DepositsOf{{}, id}).value() == amount);
}

TEST_CASE("checkpoint: from a snapshot behind the journal, exactly the events after it are applied", "[checkpoint]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  history h;
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    h = deposit(*app, 12);  // positions 1-3 open, 4-15 deposit 1..12 to b, c, a, b, c, a, ...
  }
  // As if the process died after a snapshot at position 9 (deposits 1..6).
  interlock::projection_checkpoint cp;
  cp.position = 9;
  cp.state = R"({"by_account":{"a":9,"b":5,"c":7},"sum":21})";
  save_checkpoint(dir.file("bank.read.db"), cp);

  deposits_applied = 0;
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  CHECK(sum_after(*app, h.last_position) == h.sum);
  CHECK(deposits_applied == 6);  // deposits 7..12, none twice
  for (auto& [id, amount] : h.by_account) CHECK(app->query(DepositsOf{{}, id}).value() == amount);
}

TEST_CASE("checkpoint: a snapshot it cannot use is logged and the read model rebuilt from position 0",
          "[checkpoint]") {
  struct bad_case {
    const char* what;
    std::uint64_t position;
    std::uint32_t state_version;
    const char* state;
    const char* logged;
  };
  const bad_case cases[] = {
      {"another state version", 15, 7, R"({"by_account":{},"sum":1000})", "state version 7, the code's is 1"},
      {"past the journal's end", 1'000'000, 1, R"({"by_account":{},"sum":1000})",
       "past the journal's last position 15"},
      {"JSON that does not decode", 15, 1, R"({"by_account":{},"sum":"lots"})", "does not decode"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      temp_dir dir;
      const auto db = dir.file("bank.db");
      history h;
      {
        actor_env env;
        auto app = start(env.sys, db);
        REQUIRE(app);
        h = deposit(*app, 12);
      }
      save_checkpoint(dir.file("bank.read.db"), {c.position, c.state_version, c.state, 0});
      captured_log log;
      deposits_applied = 0;
      actor_env env;
      auto app = start(env.sys, db);
      REQUIRE(app);
      CHECK(sum_after(*app, h.last_position) == h.sum);
      CHECK(deposits_applied == 12);
      auto lines = log.containing("projection Totals");
      REQUIRE(lines.size() == 1);
      CHECK_THAT(lines[0], Contains(c.logged) && Contains("rebuilding it from position 0"));
    }
  }
}

TEST_CASE("checkpoint: while live, a snapshot every snapshot_every positions", "[checkpoint]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  CHECK(checkpoint_of(*app, "Totals") == 0);
  auto h = deposit(*app, 12);  // to position 15
  CHECK(sum_after(*app, h.last_position) == h.sum);
  std::uint64_t checkpoint = 0;
  for (int i = 0; i < 500 && checkpoint == 0; ++i) {
    checkpoint = checkpoint_of(*app, "Totals");
    if (checkpoint == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(checkpoint >= 10);
  CHECK(checkpoint <= 15);
  raw_db raw{dir.file("bank.read.db")};
  CHECK(raw.rows("SELECT position FROM projection_checkpoints WHERE projection = 'Totals'") ==
        std::vector<std::string>{std::to_string(checkpoint)});
  CHECK(checkpoint_of(*app, "Balances") == 0);  // no snapshot_every: no checkpoint
}

TEST_CASE("checkpoint: a projection without snapshot_every stores nothing and replays at each start",
          "[checkpoint]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  history h;
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    h = deposit(*app, 5);
  }
  raw_db raw{dir.file("bank.read.db")};
  CHECK(raw.rows("SELECT projection FROM projection_checkpoints") == std::vector<std::string>{"Totals"});
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  auto totals = app->query(GetTotals{}, {.after = h.last_position});  // Balances, rebuilt from the journal
  REQUIRE(totals);
  CHECK(*totals == h.by_account);
}

TEST_CASE("checkpoint: a rebuild forgets the snapshot and stores a new one", "[checkpoint]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  history h;
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    h = deposit(*app, 12);
  }
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  CHECK(sum_after(*app, h.last_position) == h.sum);
  deposits_applied = 0;
  REQUIRE_FALSE(app->rebuild<Totals>());
  CHECK(sum_after(*app, h.last_position) == h.sum);
  CHECK(deposits_applied == 12);  // from position 0, not from the snapshot
  std::uint64_t checkpoint = 0;
  for (int i = 0; i < 500 && checkpoint == 0; ++i) {
    checkpoint = checkpoint_of(*app, "Totals");
    if (checkpoint == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(checkpoint == h.last_position);
}

TEST_CASE("checkpoint: interlock.read_side.database_path puts the read store elsewhere", "[checkpoint]") {
  temp_dir dir;
  interlock::runtime_settings s;
  s.read_store_path = dir.file("read/side.db");  // its folder is created
  {
    actor_env env;
    auto app = start(env.sys, dir.file("bank.db"), s);
    REQUIRE(app);
    deposit(*app, 2);
  }
  CHECK(std::filesystem::exists(dir.file("read/side.db")));
  CHECK_FALSE(std::filesystem::exists(dir.file("bank.read.db")));
  raw_db raw{dir.file("read/side.db")};
  CHECK(raw.rows("SELECT projection FROM projection_checkpoints") == std::vector<std::string>{"Totals"});
}

TEST_CASE("checkpoint: a journal file given as the read store stops build() with an error naming it",
          "[checkpoint]") {
  temp_dir dir;
  interlock::runtime_settings s;
  s.read_store_path = dir.file("bank.db");
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"), s);
  REQUIRE_FALSE(app);
  CHECK_THAT(interlock::message_of(app.error()), Contains("bank.db") && Contains("is it the journal?"));
}
