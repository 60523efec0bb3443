// A durable read model's rebuild survives kill -9 at any moment: a process
// rebuilds a read model with a row per event, again and again, while it
// takes deposits, and is killed at random. Right after each kill, the read
// store's tables hold exactly the journal's events up to its checkpoint (the
// old tables with theirs, or the new with theirs: never a mix, never half a
// swap); a restart removes the rebuild's leftover file and goes on from the
// checkpoint to the journal's end, every event once. 16 rounds.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "account_fill.hpp"
#include "child_process.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testing_support;

namespace {

// The journal's events up to `position` as EventRows stores them.
std::vector<std::string> journal_rows(const std::string& db, const std::string& position) {
  return raw_db{db}.rows(
      "SELECT global_position, aggregate_id, coalesce(json_extract(payload, '$.amount'), 0) FROM events_view "
      "WHERE aggregate_type = 'Account' AND global_position <= " + position + " ORDER BY global_position");
}

std::vector<std::string> table_rows(const std::string& read_store) {
  return raw_db{read_store}.rows("SELECT position, account, amount FROM event_rows ORDER BY position");
}

std::string checkpoint(const std::string& read_store) {
  auto rows = raw_db{read_store}.rows("SELECT position FROM projection_checkpoints WHERE projection = 'EventRows'");
  REQUIRE(rows.size() == 1);
  return rows[0];
}

std::vector<std::string> rebuilder_args(const std::string& db, std::size_t read_batch, bool rebuild) {
  std::vector<std::string> args{INTERLOCK_PROGRAM_durable_rebuilder, "--db", db, "--read-batch",
                                std::to_string(read_batch)};
  if (rebuild) args.push_back("--rebuild");
  return args;
}

}  // namespace

TEST_CASE("durable rebuild crash: kill -9 mid-rebuild leaves tables and checkpoint together, and a restart goes on",
          "[durable][rebuild][crash]") {
  const auto seed = static_cast<unsigned>(crash_seed());
  INFO("seed " << seed << " (rerun with INTERLOCK_CRASH_SEED=" << seed << ")");
  std::mt19937 rng{seed};
  auto pick = [&](long lo, long hi) { return std::uniform_int_distribution<long>{lo, hi}(rng); };

  temp_dir dir;
  const auto db = dir.file("bank.db");
  const auto read_store = dir.file("bank.read.db");
  const auto shadow = dir.file("bank.read.db.rebuild-EventRows.db");
  fill_accounts(db, 30'000);
  // How long a start and a whole catch-up take here: a rebuild takes about as long.
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(child{rebuilder_args(db, 4096, false)}.wait() == 0);
  const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  REQUIRE(table_rows(read_store) == journal_rows(db, checkpoint(read_store)));
  int mid_rebuild = 0;
  for (int round = 0; round < 16; ++round) {
    const std::size_t batches[] = {256, 1024, 4096};
    const auto batch = batches[pick(0, 2)];
    const auto delay = std::chrono::milliseconds{pick(whole.count() / 2, whole.count() * 4)};
    INFO("round " << round << ": read_batch " << batch << ", killed after " << delay.count()
                  << " ms (a start and catch-up: " << whole.count() << " ms)");
    {
      child rebuilder{rebuilder_args(db, batch, true)};
      std::this_thread::sleep_for(delay);
      ::kill(rebuilder.pid, SIGKILL);
      const int status = rebuilder.wait();
      REQUIRE(WIFSIGNALED(status));  // not ended by a failed rebuild
    }
    if (std::filesystem::exists(shadow)) ++mid_rebuild;
    REQUIRE(table_rows(read_store) == journal_rows(db, checkpoint(read_store)));
    REQUIRE(child{rebuilder_args(db, batch, false)}.wait() == 0);
    CHECK_FALSE(std::filesystem::exists(shadow));
    const auto end = raw_db{db}.rows("SELECT max(global_position) FROM events");
    REQUIRE(checkpoint(read_store) == end.at(0));
    REQUIRE(table_rows(read_store) == journal_rows(db, end.at(0)));
  }
  INFO(mid_rebuild << " of 16 rounds were killed with a rebuild under way");
  CHECK(mid_rebuild >= 8);
}
