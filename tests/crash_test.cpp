// Crash durability: a writer process (tests/programs/bank_writer.cpp) deposits
// as fast as it can and prints every acknowledged command; the test kills it
// with SIGKILL at a random moment, then checks on the same SQLite file that
// every acknowledged command's event is there, that stream versions and global
// positions are gapless, and that a new process continues every stream.
//
// All rounds share one file, so every round after the first restarts on a file
// that has already been through crashes and restarts.
//
// Reproduce a failure's parameters with INTERLOCK_CRASH_SEED=<seed> (printed
// on failure); the exact kill moment depends on timing and cannot be replayed.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>

#include <interlock/persistence/sqlite_journal.hpp>

#include "bank_app.hpp"
#include "crash_support.hpp"

using namespace testbank;
using namespace testing_support;
using namespace crash_testing;

namespace {

journal_snapshot read_journal(const std::string& db) {
  auto j = interlock::open_sqlite_journal({db});
  if (!j) FAIL("cannot open " << db << ": " << interlock::describe(j.error()));
  return crash_testing::read_journal(**j);
}

std::vector<std::string> writer_args(const std::string& db, int accounts, long deposits, int window) {
  return {INTERLOCK_PROGRAM_bank_writer, "--db",     db, "--accounts", std::to_string(accounts), "--deposits",
          std::to_string(deposits),      "--window", std::to_string(window)};
}

run_outcome run_and_kill(const std::string& db, int accounts, int window, std::size_t kill_after_acks,
                         std::chrono::microseconds extra_delay) {
  return crash_testing::run_and_kill(writer_args(db, accounts, 0, window), kill_after_acks, extra_delay);
}

run_outcome run_to_completion(const std::string& db, int accounts, long deposits, int window) {
  return crash_testing::run_to_completion(writer_args(db, accounts, deposits, window));
}

}  // namespace

TEST_CASE("crash: SIGKILL at random moments loses no acknowledged command", "[crash]") {
  const auto seed = crash_seed();
  INFO("seed " << seed << " (rerun with INTERLOCK_CRASH_SEED=" << seed << ")");
  std::mt19937_64 rng{seed};
  auto pick = [&](long lo, long hi) { return std::uniform_int_distribution<long>{lo, hi}(rng); };

  temp_dir dir;
  const auto db = dir.file("crash.db");
  constexpr int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    const int accounts = static_cast<int>(pick(3, 12));
    const int window = static_cast<int>(pick(8, 128));
    const auto kill_after = static_cast<std::size_t>(pick(50, 3000));
    const auto delay = std::chrono::microseconds{pick(0, 20000)};
    INFO("round " << round << ": accounts " << accounts << ", window " << window << ", kill after " << kill_after
                  << " acks + " << delay.count() << " us");

    // Stream lengths before this process starts (the file is new in round 0).
    std::map<std::string, std::uint64_t> before;
    if (std::filesystem::exists(db)) before = read_journal(db).lengths();

    // 1. Write as fast as possible; SIGKILL at a random moment.
    auto crashed = run_and_kill(db, accounts, window, kill_after, delay);
    INFO("crashed writer: " << crashed.acks.size() << " acks, " << describe_status(crashed.status)
                            << (crashed.partial.empty() ? "" : ", partial last line: " + crashed.partial));
    REQUIRE_FALSE(crashed.hung);
    REQUIRE(crashed.junk.empty());
    REQUIRE(WIFSIGNALED(crashed.status));  // it was still running when killed
    REQUIRE(WTERMSIG(crashed.status) == SIGKILL);
    REQUIRE(crashed.acks.size() >= kill_after);

    // 2. On the same file: every ack is there; versions and positions gapless.
    auto after_crash = read_journal(db);
    std::uint64_t last_acked = 0;
    for (auto& a : crashed.acks) last_acked = std::max(last_acked, a.position);
    INFO("journal after the crash: " << after_crash.events.size() << " events; last acked position " << last_acked);
    auto problems = verify(after_crash, crashed.acks, before);
    INFO(join(problems));
    REQUIRE(problems.empty());

    // 3. Restart: a new process continues every stream where the file left it
    //    (one more account than before, so it may also open a new stream).
    const auto lengths = after_crash.lengths();
    const long deposits = pick(100, 400);
    auto restarted = run_to_completion(db, accounts + 1, deposits, window);
    INFO("restarted writer: " << restarted.acks.size() << " acks, " << describe_status(restarted.status));
    REQUIRE_FALSE(restarted.hung);
    REQUIRE(restarted.junk.empty());
    REQUIRE(restarted.partial.empty());
    REQUIRE(WIFEXITED(restarted.status));
    REQUIRE(WEXITSTATUS(restarted.status) == 0);
    REQUIRE(restarted.acks.size() == static_cast<std::size_t>(deposits));

    auto after_restart = read_journal(db);
    problems = verify(after_restart, restarted.acks, lengths);
    INFO(join(problems));
    REQUIRE(problems.empty());
    problems = verify(after_restart, crashed.acks, before);  // still there after another process lifetime
    INFO(join(problems));
    REQUIRE(problems.empty());

    // Nothing before the restart changed; exactly the restarted writer's
    // events (its opens and deposits) were added.
    REQUIRE(after_restart.events.size() >= after_crash.events.size());
    auto changed = std::mismatch(after_crash.events.begin(), after_crash.events.end(), after_restart.events.begin(),
                                 same_event);
    INFO("first changed position: " << (changed.first == after_crash.events.end() ? 0 : changed.first->position));
    REQUIRE(changed.first == after_crash.events.end());
    std::map<std::string, std::uint64_t> deposited;
    for (auto& a : restarted.acks) ++deposited[a.account];
    std::size_t opened = 0;
    for (int a = 0; a <= accounts; ++a) {
      auto id = "acc-" + std::to_string(a);
      auto it = lengths.find(id);
      auto was = it == lengths.end() ? 0 : it->second;
      if (was == 0) ++opened;
      CHECK(after_restart.lengths()[id] == std::max<std::uint64_t>(was, 1) + deposited[id]);
    }
    CHECK(after_restart.events.size() == after_crash.events.size() + opened + static_cast<std::size_t>(deposits));
  }
}

TEST_CASE("crash: the verifier catches lost, fabricated and misplaced acknowledgements", "[crash]") {
  temp_dir dir;
  const auto db = dir.file("verify.db");
  auto run = run_to_completion(db, 4, 200, 16);
  REQUIRE(WIFEXITED(run.status));
  REQUIRE(WEXITSTATUS(run.status) == 0);
  REQUIRE(run.acks.size() == 200);
  const auto snap = read_journal(db);
  REQUIRE(snap.events.size() == 4 + 200);
  const std::map<std::string, std::uint64_t> none;
  REQUIRE(verify(snap, run.acks, none).empty());

  auto expect_problem = [&](const journal_snapshot& s, const std::vector<ack>& acks, const std::string& needle) {
    auto problems = verify(s, acks, none);
    INFO("expected a problem mentioning \"" << needle << "\", got:\n" << join(problems));
    REQUIRE_FALSE(problems.empty());
    CHECK(join(problems).find(needle) != std::string::npos);
  };

  SECTION("an ack past the end of the journal (acknowledged, then lost)") {
    auto acks = run.acks;
    auto extra = acks.back();
    extra.index = acks.size();
    extra.position = snap.events.size() + 1;
    extra.version += 1;
    extra.balance += 1;
    acks.push_back(extra);
    expect_problem(snap, acks, "no event at that position");
  }
  SECTION("the journal lost the last event") {
    auto s = snap;
    s.events.pop_back();
    expect_problem(s, run.acks, "no event at that position");
  }
  SECTION("an ack with the wrong version") {
    auto acks = run.acks;
    acks[100].version += 1;
    expect_problem(snap, acks, "has version");
  }
  SECTION("an ack for the wrong account") {
    auto acks = run.acks;
    acks[100].account = acks[101].account;
    expect_problem(snap, acks, "belongs to");
  }
  SECTION("an ack with the wrong balance") {
    auto acks = run.acks;
    acks[100].balance += 1;
    expect_problem(snap, acks, "balance");
  }
  SECTION("an ack pointing at another command's event") {
    auto acks = run.acks;
    std::swap(acks[100].index, acks[104].index);  // same account (4 accounts round-robin), other tags
    expect_problem(snap, acks, "not this command's Deposited");
  }
  SECTION("an acknowledged command missing from the writer's sequence") {
    auto acks = run.acks;
    acks.erase(acks.begin() + 100);
    expect_problem(snap, acks, "expected version");
  }
  SECTION("a hole in the global positions") {
    auto s = snap;
    s.events.erase(s.events.begin() + 50);
    expect_problem(s, run.acks, "position gap");
  }
  SECTION("a hole in a stream's versions") {
    auto s = snap;
    for (auto& e : s.events)
      if (e.aggregate_id == "acc-2" && e.version >= 10) ++e.version;
    expect_problem(s, {}, "version gap in Account/acc-2");
  }
  SECTION("the journal's stream version disagrees with its events") {
    auto s = snap;
    s.reported_versions["Account/acc-1"] += 1;
    expect_problem(s, {}, "stream_version(Account/acc-1)");
  }
  SECTION("an event that is not a deposit of 1") {
    auto s = snap;
    s.events[30].payload = R"({"amount":2,"tag":"x"})";
    expect_problem(s, {}, "not Deposited(amount 1)");
  }
}
