// A durable read model survives kill -9 at random moments: a process catching
// up over a 100,000-event journal (and taking live deposits meanwhile) is
// killed, then restarted to the journal's end; its tables then equal the read
// model rebuilt from the journal, row for row (each row counts the events
// applied to it, so one applied twice or skipped shows). 20 rounds.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <thread>

#include <signal.h>
#include <sys/wait.h>

#include "account_fill.hpp"
#include "child_process.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testing_support;

namespace {

// The read model as the journal says it must be: per account, the sum of its
// deposits and the number of its events.
std::vector<std::string> expected_rows(const std::string& db) {
  return raw_db{db}.rows(
      "SELECT aggregate_id, sum(coalesce(json_extract(payload, '$.amount'), 0)), count(*) FROM events_view "
      "WHERE aggregate_type = 'Account' GROUP BY aggregate_id ORDER BY aggregate_id");
}

std::vector<std::string> stored_rows(const std::string& read_store) {
  return raw_db{read_store}.rows("SELECT account, amount, events FROM counted ORDER BY account");
}

std::vector<std::string> reader_args(const std::string& db, long deposits, std::size_t read_batch) {
  return {INTERLOCK_PROGRAM_durable_reader, "--db", db, "--deposits", std::to_string(deposits), "--read-batch",
          std::to_string(read_batch)};
}

}  // namespace

TEST_CASE("durable crash: kill -9 while catching up and taking deposits, after a restart the rows are exact",
          "[durable][crash]") {
  const auto seed = static_cast<unsigned>(crash_seed());
  INFO("seed " << seed << " (rerun with INTERLOCK_CRASH_SEED=" << seed << ")");
  std::mt19937 rng{seed};
  auto pick = [&](long lo, long hi) { return std::uniform_int_distribution<long>{lo, hi}(rng); };

  temp_dir dir;
  const auto db = dir.file("bank.db");
  const auto read_store = dir.file("bank.read.db");
  fill_accounts(db, 100'000);
  // How long a whole catch-up takes here: the kills land within it.
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(child{reader_args(db, 0, 512)}.wait() == 0);
  const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  REQUIRE(stored_rows(read_store) == expected_rows(db));
  int killed_mid_way = 0;
  for (int round = 0; round < 20; ++round) {
    const std::size_t batches[] = {64, 512, 4096};
    const auto batch = batches[pick(0, 2)];
    const auto deposits = pick(0, 300);
    const auto delay = std::chrono::milliseconds{pick(0, whole.count() * 9 / 10)};
    INFO("round " << round << ": read_batch " << batch << ", " << deposits << " deposits, kill after "
                  << delay.count() << " ms of a whole catch-up's " << whole.count() << " ms");
    // The tables start over: a whole catch-up to kill (their rows go with
    // their checkpoint, as one transaction would take them).
    raw_db{read_store}.exec("BEGIN; DELETE FROM counted; DELETE FROM projection_checkpoints; COMMIT");
    {
      child reader{reader_args(db, deposits, batch)};
      std::this_thread::sleep_for(delay);
      ::kill(reader.pid, SIGKILL);
      reader.wait();
    }
    // Killed mid-way: it had committed part of the catch-up, not all of it.
    const auto at = raw_db{read_store}.rows("SELECT coalesce(max(position), 0) FROM projection_checkpoints");
    const auto end = raw_db{db}.rows("SELECT max(global_position) FROM events");
    if (at.at(0) != "0" && std::stoull(at.at(0)) < std::stoull(end.at(0))) ++killed_mid_way;
    child restarted{reader_args(db, 0, batch)};
    const int status = restarted.wait();
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(stored_rows(read_store) == expected_rows(db));
    const auto last = raw_db{db}.rows("SELECT max(global_position) FROM events");
    REQUIRE(raw_db{read_store}.rows("SELECT position FROM projection_checkpoints WHERE projection = "
                                    "'CountedBalances'") == last);
  }
  INFO(killed_mid_way << " of 20 rounds were killed with part of the catch-up committed");
  CHECK(killed_mid_way >= 5);
}
