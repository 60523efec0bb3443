// One of several processes of the test bank on one journal: a PostgreSQL
// schema (--url, --schema) or a SQLite file (--db) (tests/shared_journal_test.cpp). It opens `accounts` shared accounts
// (acc-0..; "already open" from another process is fine), deposits into them
// round-robin with `window` commands in flight, and prints one line per
// acknowledged command:
//   ack <tag> <account> <version> <position> <balance> <steady clock ns>
// Tags are "<name>-<i>", unique across the processes.
//
// With --barrier DIR it then waits (bounded) until `processes` files
// DIR/done-* exist (the others are done writing too), reads the journal's
// head, waits (bounded) until its projections have reached that head, watching
// application::status() and never asking with `after` (so only the journal's
// notifications can have told them of the others' events), and prints:
//   reached <head> <ms>
//   balance <account> <amount>      (Balances, for each account)
//   seen <entry>                    (Audit, every event it applied, in order)
// Exit code 0 when done; 1 with a line on stderr when anything failed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <interlock/persistence/postgres_journal.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

#include "../bank_domain.hpp"
#include "../test_support.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string url, schema, db, name = "p", barrier;
  int accounts = 4, processes = 1, window = 16;
  long deposits = 100;
  long pace_ms = 0;  // pause after each deposit (one at a time then)
  long follow_poll_ms = -1;  // runtime_settings::follow_poll; -1: the default
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i], value = argv[i + 1];
    if (arg == "--url") o.url = value;
    else if (arg == "--schema") o.schema = value;
    else if (arg == "--db") o.db = value;
    else if (arg == "--name") o.name = value;
    else if (arg == "--barrier") o.barrier = value;
    else if (arg == "--accounts") o.accounts = std::atoi(value.c_str());
    else if (arg == "--processes") o.processes = std::atoi(value.c_str());
    else if (arg == "--window") o.window = std::atoi(value.c_str());
    else if (arg == "--deposits") o.deposits = std::atol(value.c_str());
    else if (arg == "--pace") o.pace_ms = std::atol(value.c_str());
    else if (arg == "--follow-poll") o.follow_poll_ms = std::atol(value.c_str());
    else die("unknown option " + arg);
  }
  if ((o.url.empty() || o.schema.empty()) == o.db.empty()) die("either --url and --schema or --db is required");
  return o;
}

std::string account(long i, int accounts) { return "acc-" + std::to_string(i % accounts); }

void open_accounts(interlock::application& app, int accounts) {
  for (int a = 0; a < accounts; ++a) {
    auto r = app.dispatch(account(a, accounts), testbank::Open{"owner"});
    if (!r && interlock::message_of(r.error()).find("already open") == std::string::npos)
      die("cannot open " + account(a, accounts) + ": " + interlock::describe(r.error()));
  }
}

void deposit_all(interlock::application& app, const options& o) {
  using receipt_future = std::future<caf::expected<interlock::receipt<std::int64_t>>>;
  struct in_flight {
    std::string tag, account;
    receipt_future result;
  };
  std::deque<in_flight> flying;
  auto drain = [&](std::size_t keep) {
    while (flying.size() > keep) {
      auto& f = flying.front();
      auto r = f.result.get();
      if (!r) die("deposit " + f.tag + " failed: " + interlock::describe(r.error()));
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch());
      std::printf("ack %s %s %llu %llu %lld %lld\n", f.tag.c_str(), f.account.c_str(),
                  static_cast<unsigned long long>(r->version), static_cast<unsigned long long>(r->position),
                  static_cast<long long>(r->value), static_cast<long long>(ns.count()));
      std::fflush(stdout);
      flying.pop_front();
    }
  };
  for (long i = 0; i < o.deposits; ++i) {
    testbank::Deposit d;
    d.amount = 1 + i % 7;
    d.tag = o.name + "-" + std::to_string(i);
    auto id = account(i, o.accounts);
    flying.push_back({d.tag, id, app.dispatch_async(id, d)});
    drain(o.pace_ms > 0 ? 0 : static_cast<std::size_t>(o.window));
    if (o.pace_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.pace_ms));
  }
  drain(0);
}

// Every process is done writing: the journal's head is final.
void meet_the_others(const options& o) {
  std::ofstream{o.barrier + "/done-" + o.name} << "done\n";
  const auto deadline = clock_type::now() + 120s;
  for (;;) {
    int done = 0;
    for (auto& f : std::filesystem::directory_iterator{o.barrier})
      if (f.path().filename().string().rfind("done-", 0) == 0) ++done;
    if (done >= o.processes) return;
    if (clock_type::now() > deadline) die("the other processes did not finish writing within 120 s");
    std::this_thread::sleep_for(5ms);
  }
}

std::uint64_t journal_head(const options& o) {
  auto j = o.db.empty() ? interlock::open_postgres_journal({o.url, o.schema})
                        : interlock::open_sqlite_journal(interlock::sqlite_options{o.db});
  if (!j) die("cannot open the journal: " + interlock::describe(j.error()));
  auto head = (*j)->last_position();
  if (!head) die("cannot read the journal's head: " + interlock::describe(head.error()));
  return *head;
}

// Watches status() only: a query with `after` would read the journal itself.
void wait_for_projections(interlock::application& app, std::uint64_t head) {
  const auto start = clock_type::now();
  for (;;) {
    auto st = app.status();
    if (!st) die("status: " + interlock::describe(st.error()));
    bool all = true;
    for (auto& p : *st) {
      if (p.state == interlock::projection_status::phase::failed) die("projection " + p.name + " failed: " + p.failure);
      all = all && p.position >= head;
    }
    if (all) break;
    if (clock_type::now() - start > 30s) die("the projections did not reach position " + std::to_string(head) +
                                              " within 30 s");
    std::this_thread::sleep_for(1ms);
  }
  const auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
  std::printf("reached %llu %.1f\n", static_cast<unsigned long long>(head), ms);
}

void print_projections(interlock::application& app, int accounts) {
  auto totals = app.query(testbank::GetTotals{});
  if (!totals) die("GetTotals: " + interlock::describe(totals.error()));
  for (int a = 0; a < accounts; ++a) {
    auto it = totals->find(account(a, accounts));
    std::printf("balance %s %lld\n", account(a, accounts).c_str(),
                static_cast<long long>(it == totals->end() ? 0 : it->second));
  }
  auto seen = app.query(testbank::GetSeen{});
  if (!seen) die("GetSeen: " + interlock::describe(seen.error()));
  for (auto& s : *seen) std::printf("seen %s\n", s.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  testing_support::actor_env env;
  interlock::application_builder b{env.sys};
  testbank::register_bank(b);
  auto settings = b.settings();
  settings.conflict_retries = 1000;  // three processes on four accounts conflict often
  if (o.follow_poll_ms >= 0) settings.follow_poll = std::chrono::milliseconds{o.follow_poll_ms};
  if (!o.db.empty()) settings.read_store_path = o.db + "." + o.name + ".read.db";  // a process's own
  b.settings(settings);
  if (o.db.empty()) b.postgres(o.url, o.schema, o.schema + "_read_" + o.name);  // a read schema of its own
  else b.sqlite(o.db);
  auto app = b.build();
  if (!app) die("cannot start: " + interlock::describe(app.error()));
  open_accounts(*app, o.accounts);
  deposit_all(*app, o);
  if (o.barrier.empty()) return 0;
  meet_the_others(o);
  wait_for_projections(*app, journal_head(o));
  print_projections(*app, o.accounts);
  std::fflush(stdout);
  return 0;
}
