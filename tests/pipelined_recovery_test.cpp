// Recovery of a stream longer than one read batch: the reader reads chunk
// after chunk while its second thread applies the one before. These run with
// tiny read batches so that every stream here is "long".
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <thread>
#include <numeric>

#include "ledger_domain.hpp"
#include "bank_app.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testledger;
using namespace testing_support;
using interlock::as_of;

namespace {

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db, std::size_t read_batch,
                                            std::uint64_t snapshot_every = 0) {
  interlock::runtime_settings s;
  s.database_path = db;
  s.read_batch = read_batch;
  s.snapshot_every = snapshot_every;
  return interlock::application_builder{sys}.aggregate<Ledger>().settings(s).build();
}

// What Describe answers after Adds of 1..n.
std::string ledger_text(std::int64_t n) {
  std::string s = "v" + std::to_string(n) + " total " + std::to_string(n * (n + 1) / 2) + " [";
  for (std::int64_t a = 1; a <= n; ++a) s += std::to_string(a) + ",";
  return s + "]";
}

void write_ledgers(const std::string& db, std::initializer_list<const char*> ids, std::int64_t n,
                   std::uint64_t snapshot_every = 0) {
  actor_env env;
  auto app = start(env.sys, db, 4096, snapshot_every);
  REQUIRE(app);
  for (auto id : ids)
    for (std::int64_t a = 1; a <= n; ++a) REQUIRE(app->dispatch(id, Add{a}));
}

std::string stream_event(const char* id, int version) {
  return std::string{" WHERE version = "} + std::to_string(version) +
         " AND stream_key = (SELECT stream_key FROM streams WHERE aggregate_id = '" + id + "')";
}

}  // namespace

TEST_CASE("pipelined recovery: a long stream comes back whole and in order, whatever the read batch",
          "[recovery]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  const std::uint64_t every = GENERATE(0, 9);  // with snapshots (the newest at 36), the tail after it
  write_ledgers(db, {"x"}, 40, every);
  const std::size_t read_batch = GENERATE(1, 3, 7, 4096);
  INFO("read_batch " << read_batch << ", snapshot every " << every);
  actor_env env;
  auto app = start(env.sys, db, read_batch, every);
  REQUIRE(app);
  auto text = app->dispatch("x", Describe{});
  REQUIRE(text);
  CHECK(text->value == ledger_text(40));
  auto next = app->dispatch("x", Add{41});
  REQUIRE(next);
  CHECK(next->version == 41);
  CHECK(next->value == 41 * 42 / 2);
}

TEST_CASE("pipelined recovery: state as of a version inside a later chunk", "[recovery]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  write_ledgers(db, {"x"}, 40);
  actor_env env;
  auto app = start(env.sys, db, 3);  // chunks 1-3 (in place), 4-6, ..., 19-21, ..., 40
  REQUIRE(app);
  const std::uint64_t bound = GENERATE(20, 21, 40);  // inside a chunk, at its end, the stream's end
  INFO("as of version " << bound);
  auto at = app->load_as_of<Ledger>("x", as_of::version(bound));
  REQUIRE(at);
  CHECK(at->state.text() == ledger_text(static_cast<std::int64_t>(bound)));
  REQUIRE(at->last);
  CHECK(at->last->version == bound);
  CHECK(at->last->event_type == "Added");
  CHECK(at->last->aggregate_id == "x");
  CHECK_FALSE(at->last->command_id.empty());  // the ids travel with the chunk
  CHECK(at->last->correlation_id == at->last->command_id);
}

TEST_CASE("pipelined recovery: long streams recovering at once do not mix", "[recovery]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  write_ledgers(db, {"x", "y", "z"}, 30);
  actor_env env;
  auto app = start(env.sys, db, 2);
  REQUIRE(app);
  std::vector<std::future<caf::expected<interlock::receipt<std::string>>>> answers;
  for (auto id : {"x", "y", "z"})
    answers.push_back(std::async(std::launch::async, [&app, id] { return app->dispatch(id, Describe{}); }));
  for (auto& a : answers) {
    auto text = a.get();
    REQUIRE(text);
    CHECK(text->value == ledger_text(30));
  }
}

TEST_CASE("pipelined recovery: a bad event in a later chunk is an error naming it, and nothing is lost",
          "[recovery][corruption]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  write_ledgers(db, {"x", "y", "healthy"}, 40);
  std::vector<std::string> before;
  {
    raw_db raw{db};
    raw.exec(R"(UPDATE events SET payload = '{"amount":"ten"}')" + stream_event("x", 25));
    raw.exec("UPDATE events SET event_type = 'Mystery'" + stream_event("y", 31));
    before = raw.rows("SELECT * FROM events ORDER BY global_position");
  }
  actor_env env;
  auto app = start(env.sys, db, 3);
  REQUIRE(app);
  for (int attempt = 0; attempt < 2; ++attempt) {  // the same answer again: the actor keeps its failure
    auto x = app->dispatch("x", Add{1});
    REQUIRE_FALSE(x);
    CHECK(interlock::is(x.error(), interlock::errc::corrupt_event));
    CHECK_THAT(interlock::message_of(x.error()),
               Catch::StartsWith("stream Ledger/x version 25 type Added: payload does not decode: "));
  }
  auto y = app->dispatch("y", Add{1});
  REQUIRE_FALSE(y);
  CHECK(interlock::describe(y.error()) ==
        "unknown_event_type: stream Ledger/y version 31 type Mystery: aggregate Ledger has no event of this type in "
        "its `events` list");
  auto healthy = app->dispatch("healthy", Describe{});  // the reader goes on serving after a failure
  REQUIRE(healthy);
  CHECK(healthy->value == ledger_text(40));
  app->stop();
  raw_db raw{db};
  CHECK(raw.rows("SELECT * FROM events ORDER BY global_position") == before);
}

// -- projections: catch-up over more than one read batch ----------------------

namespace {

void write_accounts(const std::string& db, int accounts, int deposits) {
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  for (int d = 0; d <= deposits; ++d)  // interleaved, as concurrent clients write
    for (int a = 0; a < accounts; ++a) {
      const auto id = "acc-" + std::to_string(a);
      if (d == 0) REQUIRE(app->dispatch(id, testbank::Open{"o"}));
      else REQUIRE(app->dispatch(id, testbank::Deposit{{}, d, "t"}));
    }
}

interlock::runtime_settings with_read_batch(std::size_t n) {
  interlock::runtime_settings s;
  s.read_batch = n;
  return s;
}

}  // namespace

TEST_CASE("pipelined catch-up: a projection reads the whole journal, chunk by chunk", "[recovery][projection]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  write_accounts(db, 3, 20);
  const std::size_t read_batch = GENERATE(1, 4, 4096);
  INFO("read_batch " << read_batch);
  actor_env env;
  auto app = start_bank(env.sys, db, with_read_batch(read_batch));
  REQUIRE(app);
  auto totals = app->query(testbank::GetTotals{});
  REQUIRE(totals);
  const std::map<std::string, std::int64_t> expected{{"acc-0", 210}, {"acc-1", 210}, {"acc-2", 210}};
  CHECK(*totals == expected);
}

TEST_CASE("pipelined catch-up: damage in a later chunk stops the projection with an error naming it",
          "[recovery][projection][corruption]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  write_accounts(db, 3, 20);
  const bool hole = GENERATE(true, false);
  {
    raw_db raw{db};
    if (hole) raw.exec("DELETE FROM events WHERE global_position = 40");
    else raw.exec(R"(UPDATE events SET payload = '{"amount":"ten"}' WHERE global_position = 40)");
  }
  actor_env env;
  auto app = start_bank(env.sys, db, with_read_batch(3));
  REQUIRE(app);
  auto totals = app->query(testbank::GetTotals{});
  REQUIRE_FALSE(totals);
  if (hole)
    CHECK(interlock::describe(totals.error()) ==
          "corrupt_event: projection Balances stopped: global position 40 is missing from the journal");
  else
    CHECK_THAT(interlock::describe(totals.error()),
               Catch::StartsWith("corrupt_event: projection Balances stopped: stream Account/acc-0 version 14 type "
                                 "Deposited: payload does not decode: "));
}

// -- a catch-up that outlasts journal_timeout ---------------------------------

namespace {

struct GetSlowTotal {
  using result_type = std::string;
};
// Slow on purpose (a sleep per event), so that its catch-up outlasts a short
// journal_timeout while the reader is still applying chunks to it.
struct SlowTotals {
  using events = interlock::types<Added>;
  using queries = interlock::types<GetSlowTotal>;
  std::int64_t count = 0, total = 0;
  void on(const Added& e) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    ++count;
    total += e.amount;
  }
  std::string handle(const GetSlowTotal&) const { return std::to_string(count) + " events, total " + std::to_string(total); }
};

}  // namespace

TEST_CASE("pipelined catch-up: one that times out is stopped, and the retry goes on from where it stopped",
          "[recovery][projection]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  {
    actor_env env;
    auto app = start(env.sys, db, 4096);
    REQUIRE(app);
    for (std::int64_t a = 1; a <= 6; ++a) REQUIRE(app->dispatch("x", Add{a, 50}));  // 300 events
  }
  actor_env env;
  interlock::runtime_settings s;
  s.database_path = db;
  s.read_batch = 10;
  s.journal_timeout = std::chrono::milliseconds{8};  // far less than the ~15+ ms the catch-up takes
  auto app = interlock::application_builder{env.sys}.aggregate<Ledger>().projection<SlowTotals>().settings(s).build();
  REQUIRE(app);
  // Every event counted once: a timed-out job that went on applying beside
  // its retry would count some twice.
  auto totals = app->query(GetSlowTotal{}, {.after = 300, .timeout = std::chrono::seconds{60}});
  REQUIRE(totals);
  CHECK(*totals == "300 events, total " + std::to_string(50 * (1 + 2 + 3 + 4 + 5 + 6)));
}
