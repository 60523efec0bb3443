// A separate process for the durable rebuild's crash test
// (tests/durable_rebuild_crash_test.cpp): opens the test bank's journal with
// EventRows, a durable read model with a row per event (table event_rows:
// position, account, amount; an index by account), so a swap copies many rows.
//
//   durable_rebuilder --db PATH --read-batch N
//     catches up (the read store beside the journal), then exits 0
//   durable_rebuilder --db PATH --read-batch N --rebuild
//     catches up, then rebuilds EventRows again and again while a thread
//     deposits, until killed; exits 1 if a rebuild fails
// With --postgres URL --schema S instead of --db: the journal in schema S on
// that server, the read store in S_read (tests/postgres_durable_crash_test.cpp).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <interlock/persistence/read_db.hpp>

#include "../bank_domain.hpp"
#include "../test_support.hpp"

namespace {

struct CountRows : interlock::query<std::int64_t> {};

struct EventRows {
  using events = interlock::types<testbank::Opened, testbank::Deposited>;
  using queries = interlock::types<CountRows>;

  void create(interlock::read_db& db) {
    db.exec("CREATE TABLE IF NOT EXISTS event_rows (position INTEGER PRIMARY KEY, account TEXT NOT NULL, "
            "amount INTEGER NOT NULL)");
    db.exec("CREATE INDEX IF NOT EXISTS event_rows_by_account ON event_rows (account)");
  }
  void on(const testbank::Opened&, const interlock::event_envelope& env, interlock::read_db& db) {
    db.exec("INSERT INTO event_rows VALUES (?, ?, 0)", env.position, env.aggregate_id);
  }
  void on(const testbank::Deposited& e, const interlock::event_envelope& env, interlock::read_db& db) {
    db.exec("INSERT INTO event_rows VALUES (?, ?, ?)", env.position, env.aggregate_id, e.amount);
  }
  std::int64_t handle(const CountRows&, interlock::read_db& db) const {
    return *db.value<std::int64_t>("SELECT count(*) FROM event_rows");
  }
};

int fail(const char* what, const caf::error& err) {
  std::fprintf(stderr, "%s: %s\n", what, interlock::describe(err).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, postgres, schema;
  std::size_t read_batch = 4096;
  bool rebuild = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--rebuild") rebuild = true;
    else if (arg == "--db" && i + 1 < argc) db = argv[++i];
    else if (arg == "--postgres" && i + 1 < argc) postgres = argv[++i];
    else if (arg == "--schema" && i + 1 < argc) schema = argv[++i];
    else if (arg == "--read-batch" && i + 1 < argc) read_batch = std::strtoul(argv[++i], nullptr, 10);
  }
  testing_support::actor_env env;
  interlock::runtime_settings settings;
  settings.read_batch = read_batch;
  interlock::application_builder b{env.sys};
  b.settings(settings);
  if (postgres.empty()) b.sqlite(db);
  else b.postgres(postgres, schema);
  b.aggregate<testbank::Account>().projection<EventRows>();
  auto app = b.build();
  if (!app) return fail("cannot start", app.error());
  testbank::Deposit d;
  d.amount = 1;
  d.tag = "live";
  auto first = app->dispatch("acc-0", d);
  if (!first) return fail("deposit failed", first.error());
  auto rows = app->query(CountRows{}, {.after = first->position, .timeout = std::chrono::minutes(5)});
  if (!rows) return fail("query failed", rows.error());
  std::printf("caught up %llu\n", static_cast<unsigned long long>(first->position));
  std::fflush(stdout);
  if (!rebuild) return 0;
  std::thread depositor{[&] {
    for (long i = 1;; ++i) {
      d.amount = 1 + i % 7;
      app->dispatch("acc-" + std::to_string(i % 10), d);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }};
  depositor.detach();
  for (;;)
    if (auto err = app->rebuild<EventRows>()) {
      fail("rebuild failed", err);
      std::_Exit(1);  // the depositor still holds the application
    }
}
