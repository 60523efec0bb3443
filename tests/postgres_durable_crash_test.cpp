// A durable read model on PostgreSQL survives kill -9: a process catching up
// on a journal on the server (and taking live deposits meanwhile) is killed,
// then restarted to the journal's end; its table in the read schema then
// equals the read model computed from the journal, row for row (each row
// counts the events applied to it). The restart also shows that a killed
// process lets go of the read schema's lock. And a second process on a read
// schema a running one holds is refused, saying why. And a rebuild of a
// durable read model (its new tables in a shadow schema) killed at random
// leaves the old tables or the new, each with its checkpoint; a restart
// drops the shadow schema and goes on.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "durable_rows.hpp"
#include "journal_test_support.hpp"
#include "read_store_backends.hpp"
#include "test_support.hpp"

using namespace testing_support;
using journal_testing::postgres_exec;

namespace {

struct crash_schemas {
  std::string url = journal_testing::postgres_test_url();
  std::string schema = journal_testing::fresh_postgres_schema();
  std::string s = "\"" + schema + "\"", r = "\"" + schema + "_read\"";
  ~crash_schemas() {
    postgres_exec(url, "DROP SCHEMA IF EXISTS " + s + " CASCADE");
    postgres_exec(url, "DROP SCHEMA IF EXISTS " + r + " CASCADE");
  }
  std::vector<std::string> rows(const std::string& sql) const { return read_store_testing::server_rows(url, sql); }
  std::vector<std::string> expected() const {
    return rows("SELECT aggregate_id, sum(coalesce((payload::json->>'amount')::bigint, 0)), count(*) FROM " + s +
                ".events WHERE aggregate_type = 'Account' GROUP BY aggregate_id ORDER BY aggregate_id");
  }
  std::vector<std::string> stored() const {
    return rows("SELECT account, amount, events FROM " + r + ".counted ORDER BY account");
  }
  std::vector<std::string> reader(long deposits, std::size_t batch, long open = 0) const {
    return {INTERLOCK_PROGRAM_durable_reader, "--postgres", url,   "--schema", schema, "--deposits",
            std::to_string(deposits),         "--read-batch", std::to_string(batch), "--open", std::to_string(open)};
  }
};

// tests/programs/durable_rebuilder.cpp on `pg`'s schemas (EventRows: a row per event).
std::vector<std::string> rebuilder(const crash_schemas& pg, std::size_t batch, bool rebuild) {
  std::vector<std::string> args{INTERLOCK_PROGRAM_durable_rebuilder, "--postgres", pg.url, "--schema", pg.schema,
                                "--read-batch", std::to_string(batch)};
  if (rebuild) args.push_back("--rebuild");
  return args;
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

TEST_CASE("durable crash on postgres: kill -9 while catching up and taking deposits, after a restart the rows are "
          "exact",
          "[durable][crash]") {
  const auto seed = static_cast<unsigned>(crash_seed());
  INFO("seed " << seed << " (rerun with INTERLOCK_CRASH_SEED=" << seed << ")");
  std::mt19937 rng{seed};
  auto pick = [&](long lo, long hi) { return std::uniform_int_distribution<long>{lo, hi}(rng); };

  crash_schemas pg;
  REQUIRE(exit_code(child{pg.reader(20'000, 512, 10)}.wait()) == 0);  // the journal, and its read model
  REQUIRE(pg.stored() == pg.expected());
  const auto reset_tables = [&] {  // with no reader running: their rows and their checkpoint go together
    REQUIRE(postgres_exec(pg.url, "DELETE FROM " + pg.r + ".counted"));
    REQUIRE(postgres_exec(pg.url, "DELETE FROM " + pg.r + ".projection_checkpoints"));
  };
  reset_tables();
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(exit_code(child{pg.reader(0, 512)}.wait()) == 0);
  const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  REQUIRE(pg.stored() == pg.expected());
  int killed_mid_way = 0;
  constexpr int rounds = 8;
  for (int round = 0; round < rounds; ++round) {
    const std::size_t batches[] = {64, 512, 4096};
    const auto batch = batches[pick(0, 2)];
    const auto deposits = pick(0, 300);
    const auto delay = std::chrono::milliseconds{pick(0, whole.count() * 9 / 10)};
    INFO("round " << round << ": read_batch " << batch << ", " << deposits << " deposits, kill after "
                  << delay.count() << " ms of a whole catch-up's " << whole.count() << " ms");
    reset_tables();
    {
      child reader{pg.reader(deposits, batch)};
      std::this_thread::sleep_for(delay);
      ::kill(reader.pid, SIGKILL);
      reader.wait();
    }
    const auto at = pg.rows("SELECT coalesce(max(position), 0) FROM " + pg.r + ".projection_checkpoints");
    const auto end = pg.rows("SELECT max(position) FROM " + pg.s + ".events");
    if (at.at(0) != "0" && std::stoull(at.at(0)) < std::stoull(end.at(0))) ++killed_mid_way;
    REQUIRE(exit_code(child{pg.reader(0, batch)}.wait()) == 0);  // it takes the lock the killed one held
    REQUIRE(pg.stored() == pg.expected());
    REQUIRE(pg.rows("SELECT position FROM " + pg.r + ".projection_checkpoints WHERE projection = 'CountedBalances'") ==
            pg.rows("SELECT max(position) FROM " + pg.s + ".events"));
  }
  INFO(killed_mid_way << " of " << rounds << " rounds were killed with part of the catch-up committed");
  CHECK(killed_mid_way >= 2);
}

TEST_CASE("durable on postgres: a second process on a read schema another one holds exits, naming it",
          "[durable]") {
  crash_schemas pg;
  temp_dir dir;
  const auto errors = dir.file("stderr.txt");
  auto run_reader = [&] {
    const int status = child{pg.reader(0, 512), errors}.wait();
    std::ifstream in{errors};
    std::stringstream text;
    text << in.rdbuf();
    return std::pair{exit_code(status), text.str()};
  };
  {
    actor_env env;
    interlock::application_builder b{env.sys};
    b.postgres(pg.url, pg.schema).aggregate<testbank::Account>().projection<testbank::CountedBalances>();
    auto holder = b.build();
    REQUIRE(holder);
    auto [code, text] = run_reader();
    CHECK(code == 1);
    CHECK_THAT(text, Catch::Matchers::Contains("read schema '" + pg.schema + "_read'") &&
                         Catch::Matchers::Contains("another process holds it"));
  }
  auto [code, text] = run_reader();  // the holder stopped: its turn
  CHECK(code == 0);
  CHECK(text.empty());
}

TEST_CASE("durable rebuild crash on postgres: kill -9 mid-rebuild leaves tables and checkpoint together, and a "
          "restart drops the shadow schema and goes on",
          "[durable][rebuild][crash]") {
  const auto seed = static_cast<unsigned>(crash_seed());
  INFO("seed " << seed << " (rerun with INTERLOCK_CRASH_SEED=" << seed << ")");
  std::mt19937 rng{seed};
  auto pick = [&](long lo, long hi) { return std::uniform_int_distribution<long>{lo, hi}(rng); };

  crash_schemas pg;
  const auto table_rows = [&] {
    return pg.rows("SELECT position, account, amount FROM " + pg.r + ".event_rows ORDER BY position");
  };
  const auto journal_rows = [&](const std::string& position) {
    return pg.rows("SELECT position, aggregate_id, coalesce((payload::json->>'amount')::bigint, 0) FROM " + pg.s +
                   ".events WHERE aggregate_type = 'Account' AND position <= " + position + " ORDER BY position");
  };
  const auto checkpoint = [&] {
    auto rows = pg.rows("SELECT position FROM " + pg.r + ".projection_checkpoints WHERE projection = 'EventRows'");
    REQUIRE(rows.size() == 1);
    return rows[0];
  };
  const auto shadow_schemas = [&] {
    return pg.rows("SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, '" + pg.schema + "_read_rebuild_')")
        .at(0);
  };
  REQUIRE(exit_code(child{pg.reader(10'000, 4096, 10)}.wait()) == 0);  // the journal: 10 accounts, 10,000 deposits
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(exit_code(child{rebuilder(pg, 4096, false)}.wait()) == 0);
  const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  REQUIRE(table_rows() == journal_rows(checkpoint()));
  int mid_rebuild = 0;
  constexpr int rounds = 8;
  for (int round = 0; round < rounds; ++round) {
    const std::size_t batches[] = {256, 1024, 4096};
    const auto batch = batches[pick(0, 2)];
    const auto delay = std::chrono::milliseconds{pick(whole.count() / 2, whole.count() * 3)};
    INFO("round " << round << ": read_batch " << batch << ", killed after " << delay.count()
                  << " ms (a start and catch-up: " << whole.count() << " ms)");
    {
      child running{rebuilder(pg, batch, true)};
      std::this_thread::sleep_for(delay);
      ::kill(running.pid, SIGKILL);
      const int status = running.wait();
      REQUIRE(WIFSIGNALED(status));  // not ended by a failed rebuild
    }
    if (shadow_schemas() != "0") ++mid_rebuild;
    REQUIRE(table_rows() == journal_rows(checkpoint()));
    REQUIRE(exit_code(child{rebuilder(pg, batch, false)}.wait()) == 0);  // takes the lock the killed one held
    CHECK(shadow_schemas() == "0");
    const auto end = pg.rows("SELECT max(position) FROM " + pg.s + ".events");
    REQUIRE(checkpoint() == end.at(0));
    REQUIRE(table_rows() == journal_rows(end.at(0)));
  }
  INFO(mid_rebuild << " of " << rounds << " rounds were killed with a rebuild under way");
  CHECK(mid_rebuild >= rounds / 2);
}
