// Crash durability on PostgreSQL: the SQLite crash test (crash_test.cpp) with
// the journal in a schema of the test server. A writer process
// (tests/programs/bank_writer.cpp --postgres) deposits as fast as it can, every
// fourth deposit with an idempotency key, and prints every acknowledged
// command; the test kills it with SIGKILL at a random moment, then checks in
// the schema that every acknowledged command's event is there, that stream
// versions and global positions are gapless, and that every recorded command
// is stored exactly once: its one event, its ledger row pointing at it. It
// then dispatches again, in this process, the keyed commands the writer may
// have had in flight (committed or not: a retry after a crash), and each is
// there once afterwards; a new writer process then continues every stream.
//
// All rounds share one schema, so every round after the first restarts on a
// journal that has already been through crashes and restarts.
//
// Reproduce a failure's parameters with INTERLOCK_CRASH_SEED=<seed> (printed
// on failure); the exact kill moment depends on timing and cannot be replayed.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <interlock/persistence/postgres_journal.hpp>

#include "bank_app.hpp"
#include "crash_support.hpp"
#include "journal_test_support.hpp"

using namespace crash_testing;
using journal_testing::postgres_backend;

namespace {

constexpr long keyed_every = 4;  // deposit i carries an idempotency key when i % 4 == 0

// The writer's sessions carry this name, so the test can wait for them to end.
std::string writer_name(const postgres_backend& pg) { return "bank_writer_" + pg.schema; }

std::vector<std::string> writer_args(const postgres_backend& pg, int accounts, long deposits, int window,
                                     const std::string& id_prefix) {
  const auto url = pg.url + (pg.url.find('?') == std::string::npos ? "?" : "&") + "application_name=" + writer_name(pg);
  return {INTERLOCK_PROGRAM_bank_writer, "--postgres", url,         "--schema", pg.schema,
          "--accounts", std::to_string(accounts),     "--deposits", std::to_string(deposits),
          "--window",   std::to_string(window),       "--idempotent-every", std::to_string(keyed_every),
          "--id-prefix", id_prefix};
}

std::string key_of(const std::string& prefix, std::size_t index) { return prefix + "-" + std::to_string(index); }

std::string tag_of(const interlock::stored_event& e) {
  auto payload = nlohmann::json::parse(e.payload, nullptr, false);
  return payload.is_object() ? payload.value("tag", std::string{}) : std::string{};
}

/// Every problem with the idempotency ledger of the commands keyed `prefix-*`:
/// each key on exactly one event, recorded once, pointing at that event; each
/// acknowledged keyed deposit recorded where its ack says.
std::vector<std::string> verify_ledger(interlock::journal& j, const journal_snapshot& s, const std::vector<ack>& acks,
                                       const std::string& prefix) {
  std::vector<std::string> problems;
  auto problem = [&](std::string p) {
    if (problems.size() < 30) problems.push_back(std::move(p));
  };
  std::map<std::string, std::vector<const interlock::stored_event*>> by_key;
  for (const auto& e : s.events)
    if (e.command_id.rfind(prefix + "-", 0) == 0) by_key[e.command_id].push_back(&e);
  for (const auto& [key, events] : by_key) {
    if (events.size() != 1) problem(key + " is on " + std::to_string(events.size()) + " events, not 1");
    const auto& e = *events.front();
    if (tag_of(e) != key.substr(prefix.size() + 1)) problem(key + "'s event has tag " + tag_of(e));
    auto rec = j.find_command(key);
    if (!rec) problem("find_command(" + key + "): " + interlock::describe(rec.error()));
    else if (!*rec) problem(key + " has an event at position " + std::to_string(e.position) + " but no ledger row");
    else if ((*rec)->first_position != e.position || (*rec)->last_version != e.version ||
             (*rec)->aggregate_id != e.aggregate_id)
      problem(key + "'s ledger row says " + (*rec)->aggregate_id + " @" + std::to_string((*rec)->first_position) +
              " v" + std::to_string((*rec)->last_version) + ", its event is " + e.stream_name() + " @" +
              std::to_string(e.position));
  }
  for (const auto& a : acks) {
    if (a.index % keyed_every != 0) continue;
    const auto key = key_of(prefix, a.index);
    auto it = by_key.find(key);
    if (it == by_key.end()) problem("acknowledged " + key + " has no event");
    else if (it->second.front()->position != a.position)
      problem("acknowledged " + key + " @" + std::to_string(a.position) + " is at " +
              std::to_string(it->second.front()->position));
  }
  return problems;
}

/// Waits (at most 20 s) until the killed writer's server sessions are gone:
/// a COMMIT it sent just before it died may still be under way there, and
/// the journal must be read after it (committed or rolled back), not during.
bool writer_sessions_ended(const postgres_backend& pg) {
  for (int i = 0; i < 400; ++i) {
    auto n = journal_testing::postgres_exec(
        pg.url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + writer_name(pg) + "'");
    if (n && n->text(0, 0) == "0") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return false;
}

/// What a retry of keyed deposit `index` answered.
struct retried {
  std::size_t index = 0;
  std::uint64_t position = 0;
};

/// Dispatches again, in this process, every keyed deposit the killed writer
/// may have had in flight (it keeps `window` + 1 at most after its last ack):
/// as a client would after a crash, unsure whether they committed.
std::vector<retried> retry_in_flight(const postgres_backend& pg, std::size_t acked, int window, int accounts,
                                     const std::string& prefix) {
  testing_support::actor_env env;
  auto app = testing_support::start_bank_on_postgres(env.sys, pg.url, pg.schema);
  if (!app) FAIL("cannot start the bank on " << pg.schema << ": " << interlock::describe(app.error()));
  std::vector<retried> out;
  for (auto i = acked; i <= acked + static_cast<std::size_t>(window) + 1; ++i) {
    if (i % keyed_every != 0) continue;
    testbank::Deposit d;
    d.amount = 1;
    d.tag = std::to_string(i);
    interlock::dispatch_options opts;
    opts.command_id = key_of(prefix, i);
    auto r = app->dispatch("acc-" + std::to_string(i % accounts), d, opts);
    if (!r) FAIL("retry of " << opts.command_id << ": " << interlock::describe(r.error()));
    out.push_back({i, r->position});
  }
  return out;
}

}  // namespace

TEST_CASE("postgres crash: SIGKILL at random moments loses no acknowledged command, a keyed one is stored once",
          "[crash][postgres]") {
  const auto seed = crash_seed();
  INFO("seed " << seed << " (rerun with INTERLOCK_CRASH_SEED=" << seed << ")");
  std::mt19937_64 rng{seed};
  auto pick = [&](long lo, long hi) { return std::uniform_int_distribution<long>{lo, hi}(rng); };

  postgres_backend pg;
  auto j = journal_testing::open_journal(pg.factory);
  constexpr int rounds = 20;
  for (int round = 0; round < rounds; ++round) {
    const int accounts = static_cast<int>(pick(3, 12));
    const int window = static_cast<int>(pick(8, 128));
    const auto kill_after = static_cast<std::size_t>(pick(50, 1500));
    const auto delay = std::chrono::microseconds{pick(0, 20000)};
    const auto prefix = "r" + std::to_string(round);
    INFO("round " << round << ": accounts " << accounts << ", window " << window << ", kill after " << kill_after
                  << " acks + " << delay.count() << " us");
    const auto before = read_journal(*j).lengths();

    // 1. Write as fast as possible; SIGKILL at a random moment.
    auto crashed = run_and_kill(writer_args(pg, accounts, 0, window, prefix), kill_after, delay);
    INFO("crashed writer: " << crashed.acks.size() << " acks, " << describe_status(crashed.status)
                            << (crashed.partial.empty() ? "" : ", partial last line: " + crashed.partial));
    REQUIRE_FALSE(crashed.hung);
    REQUIRE(crashed.junk.empty());
    REQUIRE(WIFSIGNALED(crashed.status));  // it was still running when killed
    REQUIRE(WTERMSIG(crashed.status) == SIGKILL);
    REQUIRE(crashed.acks.size() >= kill_after);
    REQUIRE(writer_sessions_ended(pg));

    // 2. In the schema: every ack is there; versions and positions gapless;
    //    every keyed command stored and recorded once.
    auto after_crash = read_journal(*j);
    INFO("journal after the crash: " << after_crash.events.size() << " events");
    auto problems = verify(after_crash, crashed.acks, before);
    INFO(join(problems));
    REQUIRE(problems.empty());
    problems = verify_ledger(*j, after_crash, crashed.acks, prefix);
    INFO(join(problems));
    REQUIRE(problems.empty());

    // 3. The keyed commands that were in flight, dispatched again: those that
    //    committed answer with their first outcome, the others run now; each
    //    is on exactly one event either way.
    const auto retries = retry_in_flight(pg, crashed.acks.size(), window, accounts, prefix);
    auto after_retry = read_journal(*j);
    problems = verify(after_retry, crashed.acks, before);
    INFO(join(problems));
    REQUIRE(problems.empty());
    problems = verify_ledger(*j, after_retry, crashed.acks, prefix);
    INFO(join(problems));
    REQUIRE(problems.empty());
    for (const auto& r : retries) {
      const auto key = key_of(prefix, r.index);
      auto rec = j->find_command(key);
      REQUIRE(rec);
      INFO("retried " << key << " answered position " << r.position);
      REQUIRE(rec->has_value());
      CHECK((*rec)->first_position == r.position);
    }

    // 4. Restart: a new process continues every stream where the schema left
    //    it (one more account than before, so it may also open a new stream).
    const auto lengths = after_retry.lengths();
    const long deposits = pick(100, 300);
    auto restarted = run_to_completion(writer_args(pg, accounts + 1, deposits, window, prefix + "b"));
    INFO("restarted writer: " << restarted.acks.size() << " acks, " << describe_status(restarted.status));
    REQUIRE_FALSE(restarted.hung);
    REQUIRE(restarted.junk.empty());
    REQUIRE(restarted.partial.empty());
    REQUIRE(WIFEXITED(restarted.status));
    REQUIRE(WEXITSTATUS(restarted.status) == 0);
    REQUIRE(restarted.acks.size() == static_cast<std::size_t>(deposits));

    auto after_restart = read_journal(*j);
    problems = verify(after_restart, restarted.acks, lengths);
    INFO(join(problems));
    REQUIRE(problems.empty());
    problems = verify(after_restart, crashed.acks, before);  // still there after another process lifetime
    INFO(join(problems));
    REQUIRE(problems.empty());
    problems = verify_ledger(*j, after_restart, restarted.acks, prefix + "b");
    INFO(join(problems));
    REQUIRE(problems.empty());

    // Nothing before the restart changed; exactly the restarted writer's
    // events (its opens and deposits) were added.
    REQUIRE(after_restart.events.size() >= after_retry.events.size());
    auto changed = std::mismatch(after_retry.events.begin(), after_retry.events.end(), after_restart.events.begin(),
                                 same_event);
    REQUIRE(changed.first == after_retry.events.end());
    std::size_t opened = 0;
    for (int a = 0; a <= accounts; ++a)
      if (lengths.find("acc-" + std::to_string(a)) == lengths.end()) ++opened;
    CHECK(after_restart.events.size() == after_retry.events.size() + opened + static_cast<std::size_t>(deposits));
  }
}
