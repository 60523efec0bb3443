// Several processes of one application on one journal, a PostgreSQL schema
// or a SQLite file (tests/programs/shared_bank.cpp): every acknowledged
// command is stored once, versions and positions stay gapless, and each
// process's projections see the others' events, told by the journal
// (actors/journal_follower.hpp: LISTEN/NOTIFY on PostgreSQL, a poll on
// SQLite), not by a query or a write of their own.
#include <catch2/catch.hpp>

#include "bank_domain.hpp"
#include "journal_test_support.hpp"
#include "process_runner.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <interlock/persistence/postgres_journal.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/runtime/interlock.hpp>

using namespace interlock;
using namespace journal_testing;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

std::string quoted(const std::string& arg) { return "'" + arg + "'"; }

// Where the processes keep their journal.
struct shared_store {
  std::vector<std::string> args;                  // shared_bank's options that say
  journal_factory factory;                        // to read it in the test
  std::function<void(application_builder&)> use;  // for an application in the test
};

shared_store on_postgres(const postgres_backend& backend) {
  return {{"--url", backend.url, "--schema", backend.schema}, backend.factory,
          [&](application_builder& b) { b.postgres(backend.url, backend.schema); }};
}

shared_store on_sqlite(const std::string& path) {
  return {{"--db", path}, sqlite_journal_factory(sqlite_options{path}),
          [path](application_builder& b) { b.sqlite(path); }};
}

std::string shared_bank(const shared_store& store, const std::vector<std::string>& args) {
  std::string cmd = quoted(INTERLOCK_PROGRAM_shared_bank);
  for (auto& a : store.args) cmd += " " + quoted(a);
  for (auto& a : args) cmd += " " + quoted(a);
  return cmd + " 2>&1";
}

struct ack {
  std::string tag, account;
  std::uint64_t version = 0, position = 0;
  std::int64_t balance = 0, steady_ns = 0;
};

// What one process printed: its acknowledged commands, and at the end its
// projections' state.
struct process_output {
  std::vector<ack> acks;
  std::map<std::string, std::int64_t> balances;
  std::vector<std::string> seen;
  std::uint64_t reached = 0;
  double reached_ms = -1;
};

process_output parse_output(const testing_support::run_result& run) {
  process_output out;
  for (auto& line : run.lines) {
    std::istringstream in{line};
    std::string word;
    in >> word;
    if (word == "ack") {
      ack a;
      in >> a.tag >> a.account >> a.version >> a.position >> a.balance >> a.steady_ns;
      out.acks.push_back(a);
    } else if (word == "balance") {
      std::string account;
      std::int64_t amount = 0;
      in >> account >> amount;
      out.balances[account] = amount;
    } else if (word == "seen") {
      in >> word;
      out.seen.push_back(word);
    } else if (word == "reached") {
      in >> out.reached >> out.reached_ms;
    }
  }
  return out;
}

std::string printed(const testing_support::run_result& run) {
  std::string all;
  for (std::size_t i = run.lines.size() > 20 ? run.lines.size() - 20 : 0; i < run.lines.size(); ++i)
    all += run.lines[i] + "\n";
  return all;
}

// What the test bank's projections hold after applying `events` from 0:
// Audit's entries and Balances' per account.
struct rebuilt {
  std::vector<std::string> seen;
  std::map<std::string, std::int64_t> balances;
};

rebuilt rebuilt_from(const std::vector<stored_event>& events) {
  rebuilt out;
  for (auto& e : events) {
    out.seen.push_back(std::to_string(e.position) + ":" + e.aggregate_type + "/" + e.aggregate_id + ":" +
                       std::to_string(e.version) + ":" + e.command_id + ":" + e.correlation_id + ":" + e.causation_id);
    auto payload = nlohmann::json::parse(e.payload);
    if (payload.contains("amount")) out.balances[e.aggregate_id] += payload["amount"].get<std::int64_t>();
  }
  return out;
}

// Every acknowledged deposit is in the journal once, where its receipt said;
// every deposit in the journal was acknowledged; positions and each stream's
// versions are gapless.
void check_ledger(const std::vector<stored_event>& events, const std::vector<ack>& acks) {
  REQUIRE(positions_of(events) == iota(1, events.size()));
  std::map<std::string, std::vector<std::uint64_t>> versions;
  for (auto& e : events) versions[e.aggregate_id].push_back(e.version);
  for (auto& [stream, v] : versions) {
    INFO(stream);
    CHECK(v == iota(1, v.size()));
  }
  std::map<std::string, const stored_event*> by_tag;
  for (auto& e : events) {
    auto payload = nlohmann::json::parse(e.payload);
    if (!payload.contains("tag")) continue;
    auto [_, fresh] = by_tag.emplace(payload["tag"].get<std::string>(), &e);
    CHECK(fresh);  // a deposit stored twice
  }
  CHECK(by_tag.size() == acks.size());
  for (auto& a : acks) {
    INFO("ack " << a.tag);
    auto it = by_tag.find(a.tag);
    REQUIRE(it != by_tag.end());
    CHECK(it->second->aggregate_id == a.account);
    CHECK(it->second->version == a.version);
    CHECK(it->second->position == a.position);
  }
}

std::vector<stored_event> journal_of(const shared_store& store) { return read_everything(*open_journal(store.factory)); }

std::uint64_t lowest_position(application& app) {
  std::uint64_t position = UINT64_MAX;
  for (auto& p : value_of(app.status())) position = std::min(position, p.position);
  return position;
}

// Three processes deposit into four shared accounts at once; then each waits
// until its projections reach the journal's head and prints them.
void three_processes(const shared_store& store) {
  testing_support::temp_dir barrier;
  constexpr int processes = 3;
  constexpr long deposits = 300;
  std::vector<std::future<testing_support::run_result>> running;
  for (int p = 0; p < processes; ++p)
    running.push_back(std::async(std::launch::async, testing_support::run_program,
                                 shared_bank(store, {"--name", "p" + std::to_string(p), "--accounts", "4",
                                                     "--deposits", std::to_string(deposits), "--window", "16",
                                                     "--barrier", barrier.path().string(), "--processes",
                                                     std::to_string(processes)})));
  std::vector<process_output> outputs;
  std::vector<ack> acks;
  for (auto& r : running) {
    auto run = r.get();
    INFO(printed(run));
    REQUIRE(run.exit_code == 0);
    outputs.push_back(parse_output(run));
    CHECK(outputs.back().acks.size() == static_cast<std::size_t>(deposits));
    acks.insert(acks.end(), outputs.back().acks.begin(), outputs.back().acks.end());
  }
  const auto events = journal_of(store);
  check_ledger(events, acks);
  // The accounts were shared: each holds deposits of every process.
  std::map<std::string, std::set<std::string>> writers;
  for (auto& a : acks) writers[a.account].insert(a.tag.substr(0, a.tag.find('-')));
  for (auto& [account, who] : writers) CHECK(who.size() == static_cast<std::size_t>(processes));
  const auto expected = rebuilt_from(events);
  for (std::size_t p = 0; p < outputs.size(); ++p) {
    INFO("process p" << p);
    CHECK(outputs[p].reached == events.size());
    CHECK(outputs[p].balances == expected.balances);
    CHECK(outputs[p].seen == expected.seen);
    std::printf("process p%zu: its projections reached head %llu %.1f ms after all had written\n", p,
                static_cast<unsigned long long>(outputs[p].reached), outputs[p].reached_ms);
  }
}

// An application here that never writes and never queries with `after`
// watches its projections' positions in status() while another process
// deposits 20 times, 50 ms apart; the lag of each deposit runs from its
// acknowledgement there (steady clock: CLOCK_MONOTONIC, the same in every
// process) to this application's projections holding it.
std::vector<double> idle_lags(const shared_store& store, std::chrono::milliseconds follow_poll) {
  testing_support::actor_env env;
  application_builder b{env.sys};
  testbank::register_bank(b);
  auto settings = b.settings();
  settings.follow_poll = follow_poll;
  b.settings(settings);
  store.use(b);
  auto app = value_of(b.build());
  auto writer = std::async(std::launch::async, testing_support::run_program,
                           shared_bank(store, {"--name", "w", "--accounts", "2", "--deposits", "20", "--pace", "50"}));
  std::vector<std::pair<std::uint64_t, clock_type::time_point>> moves{{0, clock_type::now()}};
  auto look = [&] {
    const auto position = lowest_position(app);
    if (position > moves.back().first) moves.emplace_back(position, clock_type::now());
    std::this_thread::sleep_for(200us);
  };
  const auto start = clock_type::now();
  while (writer.wait_for(0s) != std::future_status::ready && clock_type::now() - start < 60s) look();
  auto run = writer.get();
  INFO(printed(run));
  REQUIRE(run.exit_code == 0);
  const auto out = parse_output(run);
  REQUIRE(out.acks.size() == 20);
  // The last events may still be on their way: a generous bound.
  for (auto deadline = clock_type::now() + 10s; moves.back().first < out.acks.back().position &&
                                                clock_type::now() < deadline;)
    look();
  REQUIRE(moves.back().first >= out.acks.back().position);
  std::vector<double> lags;
  for (auto& a : out.acks) {
    auto seen = std::find_if(moves.begin(), moves.end(), [&](auto& m) { return m.first >= a.position; });
    REQUIRE(seen != moves.end());
    const auto acked = clock_type::time_point{std::chrono::nanoseconds{a.steady_ns}};
    lags.push_back(std::chrono::duration<double, std::milli>(seen->second - acked).count());
  }
  std::sort(lags.begin(), lags.end());
  // And the read models hold what the journal holds.
  const auto expected = rebuilt_from(journal_of(store));
  CHECK(value_of(app.query(testbank::GetTotals{})) == expected.balances);
  CHECK(value_of(app.query(testbank::GetSeen{})) == expected.seen);
  return lags;
}

void report_lags(const char* where, const std::vector<double>& lags) {
  std::printf("%s: from a deposit's ack in another process to the projections of an idle one (ms): "
              "min %.2f, median %.2f, max %.2f (n=%zu; below 0: seen before the writer printed its ack)\n",
              where, lags.front(), lags[lags.size() / 2], lags.back(), lags.size());
}

}  // namespace

TEST_CASE("postgres processes: three processes on shared accounts store every acknowledged command once, gapless, "
          "and each one's projections end equal to a rebuild",
          "[runtime][postgres][processes]") {
  postgres_backend backend;
  three_processes(on_postgres(backend));
}

TEST_CASE("postgres processes: an idle process's projections see another process's events, told at once",
          "[runtime][postgres][processes]") {
  postgres_backend backend;
  // A poll far beyond the bound below: only the notifications can tell it in time.
  const auto lags = idle_lags(on_postgres(backend), 60s);
  CHECK(lags.back() < 10'000);
  report_lags("PostgreSQL, notified", lags);
}

TEST_CASE("shared SQLite file: three processes on shared accounts store every acknowledged command once, gapless, "
          "and each one's projections end equal to a rebuild",
          "[runtime][processes]") {
  testing_support::temp_dir dir;
  three_processes(on_sqlite(dir.file("bank.db")));
}

TEST_CASE("shared SQLite file: an idle process's projections see another process's events within the poll",
          "[runtime][processes]") {
  testing_support::temp_dir dir;
  const auto lags = idle_lags(on_sqlite(dir.file("bank.db")), 100ms);
  CHECK(lags.back() < 10'000);
  report_lags("SQLite, polled every 100 ms", lags);
}

// The follower waits on its watch for up to `follow_poll`; stopping must not
// wait for that (the watch is interrupted), on either journal.
TEST_CASE("postgres processes: an application following the journal stops at once, not after its poll",
          "[runtime][postgres][processes]") {
  postgres_backend backend;
  testing_support::temp_dir dir;
  for (const auto& store : {on_postgres(backend), on_sqlite(dir.file("bank.db"))}) {
    testing_support::actor_env env;
    application_builder b{env.sys};
    testbank::register_bank(b);
    auto settings = b.settings();
    settings.follow_poll = 120s;
    b.settings(settings);
    store.use(b);
    auto app = value_of(b.build());
    std::this_thread::sleep_for(200ms);  // the follower waits now
    const auto start = clock_type::now();
    app.stop();
    const auto took = std::chrono::duration<double>(clock_type::now() - start).count();
    INFO(store.args.front());
    CHECK(took < 10.0);
  }
}
