// A separate process for the saga crash test (tests/saga_crash_test.cpp):
// opens the transfer domain (tests/transfer_domain.hpp) on a SQLite journal.
//
//   saga_runner --db PATH --run TAG [--window N] [--pause-ms MS]
//     opens the accounts (idempotently), then starts transfers until killed,
//     N at a time (8), MS between bursts (5), and prints one line per
//     acknowledged StartTransfer:
//       ack <correlation id> <position>
//   saga_runner --db PATH --finish
//     starts no transfer: waits (up to 30 s) until the sagas have finished
//     what earlier runs left, prints "balance <account> <balance>" per
//     account and exits 0; exit 3 (and what is left, on stderr) if they did
//     not finish in time (--wait-s S: 30).
//   saga_runner --db PATH --rebuild
//     the same after rebuilding the saga from position 0: it decides every
//     step again, and each command, sent again under its id, gets its first
//     outcome back.
//
// --log LEVEL (quiet, error, warning, info, debug) sets the runtime's log
// level (stderr).
//
// The accounts: alice (rich), bob, poor (never credited: every debit from it
// is refused) and closed (refuses credits: the saga refunds).
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <thread>
#include <utility>

#include "../test_support.hpp"
#include "../transfer_domain.hpp"

using namespace transfers;

namespace {

struct account_spec {
  const char* id;
  std::int64_t balance;
  bool refuses_credits;
};
constexpr account_spec accounts[] = {{"alice", 1'000'000, false}, {"bob", 0, false}, {"poor", 0, false},
                                     {"closed", 0, true}};

struct options {
  std::string db;
  std::string run;
  std::size_t window = 8;
  std::chrono::milliseconds pause{5};
  bool finish = false;
  bool rebuild = false;
  std::string log_level;  // the runtime's, for a person looking into a failure
  std::chrono::seconds wait{30};
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--finish") o.finish = true;
    else if (arg == "--rebuild") o.finish = o.rebuild = true;
    else if (i + 1 >= argc) break;
    else if (arg == "--db") o.db = argv[++i];
    else if (arg == "--run") o.run = argv[++i];
    else if (arg == "--log") o.log_level = argv[++i];
    else if (arg == "--wait-s") o.wait = std::chrono::seconds{std::atol(argv[++i])};
    else if (arg == "--window") o.window = std::max(1ul, std::strtoul(argv[++i], nullptr, 10));
    else if (arg == "--pause-ms") o.pause = std::chrono::milliseconds{std::atol(argv[++i])};
  }
  return o;
}

[[noreturn]] void fail(const std::string& what, const caf::error& err) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), interlock::describe(err).c_str());
  std::exit(1);
}

// Under a fixed command id, a rerun gets the first outcome back instead of
// opening the account again: every round may call this.
void open_accounts(interlock::application& app) {
  for (auto& a : accounts) {
    interlock::dispatch_options o;
    o.command_id = std::string{"open-"} + a.id;
    auto r = app.dispatch(a.id, Open{a.balance, a.refuses_credits}, o);
    if (!r) fail("open " + std::string{a.id}, r.error());
  }
}

// Mostly plain transfers; every sixth refused on credit (refund), every
// sixth refused on debit, and some from bob that may or may not be covered.
StartTransfer transfer_number(long i) {
  switch (i % 6) {
    case 0: return {"alice", "closed", 7};
    case 1: return {"poor", "bob", 5};
    case 2: return {"bob", "alice", 25};
    default: return {"alice", "bob", 10};
  }
}

using pending = std::pair<std::string, std::future<caf::expected<interlock::receipt<void>>>>;

// Waits for every request in flight, oldest first, printing each
// acknowledgement (flushed: the process may die at any moment).
void drain(std::deque<pending>& inflight) {
  while (!inflight.empty()) {
    auto& [correlation, fut] = inflight.front();
    auto r = fut.get();
    if (!r) fail("StartTransfer " + correlation, r.error());
    std::printf("ack %s %llu\n", correlation.c_str(), static_cast<unsigned long long>(r->position));
    std::fflush(stdout);
    inflight.pop_front();
  }
}

// In bursts of `window` requests with a pause after each: requests come
// about as fast as the sagas finish them, so a kill finds a few dozen sagas
// mid-way rather than thousands not yet begun.
[[noreturn]] void run_transfers(interlock::application& app, const options& o) {
  std::deque<pending> inflight;
  for (long i = 0;; ++i) {
    const auto tag = o.run + "-" + std::to_string(i);
    interlock::dispatch_options opts;
    opts.correlation_id = "tr-" + tag;
    inflight.emplace_back(opts.correlation_id, app.dispatch_async("desk-" + tag, transfer_number(i), opts));
    if (inflight.size() < o.window) continue;
    drain(inflight);
    std::this_thread::sleep_for(o.pause);
  }
}

// -- --finish: have the sagas finished? ---------------------------------------

// The first column of the first row of `sql` on the file at `path`; -1 if
// NULL or none (the table is not there yet, or the file is busy). One
// statement: one read transaction, so what it reads is one moment's.
std::int64_t single_value(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  std::int64_t out = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW &&
        sqlite3_column_type(stmt, 0) != SQLITE_NULL)
      out = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The position of the journal's last event the saga reads (0: none).
constexpr const char* last_saga_event =
    "SELECT coalesce(max(global_position), 0) FROM events_view WHERE event_type IN ('TransferRequested', 'Debited', "
    "'Credited')";

// Finished: no open conversation, no command waiting for its answer, and the
// saga has applied every event it reads. The read store is read first, in one
// statement (the emptiness and the checkpoint of one moment); the journal
// after: with the outbox empty, every answered command's event is already
// there, so a checkpoint at the journal's last saga event leaves no step to run.
bool sagas_finished(const std::string& journal) {
  const auto at = single_value(interlock::read_store_path_for(journal),
                               "SELECT CASE WHEN (SELECT count(*) FROM interlock_saga_state) + "
                               "(SELECT count(*) FROM interlock_outbox) = 0 THEN "
                               "(SELECT position FROM projection_checkpoints WHERE projection = 'Transfer') END");
  if (at < 0) return false;
  const auto last = single_value(journal, last_saga_event);
  return last >= 0 && at >= last;
}

// What is left when the sagas did not finish: for the person reading stderr.
void describe_unfinished(const std::string& journal) {
  const auto read_store = interlock::read_store_path_for(journal);
  auto count = [&](const char* sql) { return static_cast<long long>(single_value(read_store, sql)); };
  std::fprintf(stderr, "left: %lld open conversation(s), %lld command(s) in the outbox (the oldest id %lld); the "
               "saga's checkpoint %lld, the journal's last saga event %lld\n",
               count("SELECT count(*) FROM interlock_saga_state"), count("SELECT count(*) FROM interlock_outbox"),
               count("SELECT min(id) FROM interlock_outbox"),
               count("SELECT position FROM projection_checkpoints WHERE projection = 'Transfer'"),
               static_cast<long long>(single_value(journal, last_saga_event)));
}

int finish(interlock::application& app, const options& o) {
  if (o.rebuild)  // returns once the saga's tables are empty and its catch-up from position 0 has begun
    if (auto err = app.rebuild<Transfer>()) fail("rebuild", err);
  const auto until = std::chrono::steady_clock::now() + o.wait;
  while (!sagas_finished(o.db)) {
    if (std::chrono::steady_clock::now() > until) {
      std::fprintf(stderr, "the sagas did not finish within %lld s\n", static_cast<long long>(o.wait.count()));
      describe_unfinished(o.db);
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& a : accounts) {
    auto s = app.load_as_of<Account>(a.id);
    if (!s) fail("load " + std::string{a.id}, s.error());
    std::printf("balance %s %lld\n", a.id, static_cast<long long>(s->state.balance));
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  if (o.db.empty() || (!o.finish && o.run.empty())) {
    std::fprintf(stderr,
                 "usage: saga_runner --db PATH (--run TAG [--window N] [--pause-ms MS] | --finish | --rebuild)\n");
    return 2;
  }
  testing_support::actor_env env;
  interlock::application_builder b{env.sys};
  register_all(b).sqlite(o.db);
  if (auto level = interlock::log_level_from(o.log_level)) interlock::set_log_level(*level);
  auto app = b.build();
  if (!app) fail("cannot start", app.error());
  if (o.finish) return finish(*app, o);
  open_accounts(*app);
  run_transfers(*app, o);
}
