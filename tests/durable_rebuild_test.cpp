// rebuild() of a durable read model: new tables are built beside the old ones
// (a shadow store of their own), which keep answering queries and applying
// live events, and are swapped in, with the checkpoint, in one transaction of
// the read store once caught up. Real files; on PostgreSQL (the tests whose
// names say so), the tests' server, the new tables in a shadow schema.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <interlock/persistence/postgres/read_swap.hpp>
#include <interlock/persistence/read_db.hpp>

#include "bank_domain.hpp"
#include "raw_db.hpp"
#include "read_store_backends.hpp"
#include "test_support.hpp"

using namespace testbank;
using namespace testing_support;
using Catch::Matchers::Contains;
using interlock::errc;
using interlock::read_db;
using phase = interlock::projection_status::phase;
using namespace std::chrono_literals;

namespace {

std::atomic<int> made{0};              // read models made: 1 at start, 2 for the first rebuild, ...
std::atomic<int> slow_shadow{0};       // ms a rebuilt read model's handler sleeps per event
std::atomic<int> shadow_applied{0};    // events the rebuilt read models applied
std::atomic<std::int64_t> fail_at{0};  // a rebuilt read model's handler throws on a deposit of this amount

struct Balance : interlock::query<std::int64_t> {
  std::string account_id;
};
struct Totals : interlock::query<std::string> {};  // "accounts|deposits|sum", from the tables in one read
struct WhichModel : interlock::query<int> {};

// One row per account: its owner, balance and the events applied to it (an
// event applied twice or missed shows).
struct Ledger {
  using events = interlock::types<Opened, Deposited>;
  using queries = interlock::types<Balance, Totals, WhichModel>;
  int serial = ++made;

  void create(read_db& db) {
    db.exec("CREATE TABLE IF NOT EXISTS ledger (account TEXT PRIMARY KEY, owner TEXT NOT NULL, "
            "amount INTEGER NOT NULL, events INTEGER NOT NULL)");
    db.exec("CREATE INDEX IF NOT EXISTS ledger_by_amount ON ledger (amount)");
  }
  void on(const Opened& e, const interlock::event_envelope& env, read_db& db) {
    shadow_work();
    db.exec("INSERT INTO ledger VALUES (?, ?, 0, 1)", env.aggregate_id, e.owner);
  }
  void on(const Deposited& e, const interlock::event_envelope& env, read_db& db) {
    shadow_work();
    if (serial > 1 && e.amount == fail_at.load()) throw std::runtime_error("the rebuilt ledger refuses it");
    db.exec("UPDATE ledger SET amount = amount + ?, events = events + 1 WHERE account = ?", e.amount,
            env.aggregate_id);
  }
  std::int64_t handle(const Balance& q, read_db& db) const {
    return db.value<std::int64_t>("SELECT amount FROM ledger WHERE account = ?", q.account_id).value_or(-1);
  }
  std::string handle(const Totals&, read_db& db) const {
    auto [n, events, sum] = db.rows<std::int64_t, std::int64_t, std::int64_t>(
        "SELECT count(*), coalesce(sum(events), 0), coalesce(sum(amount), 0) FROM ledger")[0];
    return std::to_string(n) + "|" + std::to_string(events) + "|" + std::to_string(sum);
  }
  int handle(const WhichModel&) const { return serial; }

  void shadow_work() {
    if (serial == 1) return;
    ++shadow_applied;
    if (int ms = slow_shadow.load()) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
};

INTERLOCK_JSON(Balance, account_id)

void reset_flags() {
  made = 0;
  slow_shadow = 0;
  shadow_applied = 0;
  fail_at = 0;
}

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db, std::size_t read_batch = 4) {
  interlock::runtime_settings s;
  s.read_batch = read_batch;  // small chunks: queries and live events get in between the shadow's
  interlock::application_builder b{sys};
  b.settings(s);
  if (db.empty()) b.in_memory();
  else b.sqlite(db);
  b.aggregate<Account>().projection<Ledger>();
  return b.build();
}

// A journal schema and its read schema on the tests' server, dropped at the end.
struct postgres_schemas {
  std::string url = journal_testing::postgres_test_url();
  std::string schema = journal_testing::fresh_postgres_schema();
  std::string read = schema + "_read";
  ~postgres_schemas() {
    journal_testing::postgres_exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    journal_testing::postgres_exec(url, "DROP SCHEMA IF EXISTS \"" + read + "\" CASCADE");
  }
  // `sql` on the server, its "@." naming the read schema's tables: its one cell.
  std::string value(std::string sql) const {
    for (auto at = sql.find("@."); at != std::string::npos; at = sql.find("@.", at))
      sql.replace(at, 1, "\"" + read + "\"");
    return read_store_testing::server_value(url, sql);
  }
  bool shadow_schemas() const {
    return value("SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, '" + read + "_rebuild_')") != "0";
  }
};

caf::expected<interlock::application> start(caf::actor_system& sys, const postgres_schemas& pg,
                                            std::size_t read_batch = 4) {
  interlock::runtime_settings s;
  s.read_batch = read_batch;
  interlock::application_builder b{sys};
  b.settings(s).postgres(pg.url, pg.schema);
  b.aggregate<Account>().projection<Ledger>();
  return b.build();
}

// Accounts a, b, c opened, then `deposits` deposits of 1, 2, 3, ... spread over them.
struct history {
  std::uint64_t last = 0;
  std::int64_t events = 0, sum = 0;
  std::string totals() const { return "3|" + std::to_string(events) + "|" + std::to_string(sum); }
};

// One more deposit into `h`; no Catch macro, so threads may call it.
bool deposit_one(interlock::application& app, history& h) {
  const std::int64_t amount = 1000 + h.events;
  auto r = app.dispatch(std::string(1, "abc"[h.events % 3]), Deposit{{}, amount, "t"});
  if (!r) return false;
  h.last = r->position;
  ++h.events;
  h.sum += amount;
  return true;
}

history deposit(interlock::application& app, int deposits, history h = {}) {
  if (h.last == 0)
    for (auto id : {"a", "b", "c"}) {
      auto r = app.dispatch(id, Open{std::string{"owner "} + id});
      REQUIRE(r);
      h.last = r->position;
      ++h.events;
    }
  for (int i = 1; i <= deposits; ++i) REQUIRE(deposit_one(app, h));
  return h;
}

// Deposits on a thread of its own until stopped.
struct background_deposits {
  interlock::application& app;
  history h;
  std::atomic<bool> going{true};
  std::atomic<int> failed{0};
  std::thread thread{[this] {
    while (going)
      if (!deposit_one(app, h)) ++failed;
  }};
  history stop() {
    going = false;
    thread.join();
    return h;
  }
};

// "checkpoint|events in the ledger" in one read transaction of a plain
// connection (no Catch macro: it runs on a thread of its own).
std::string checkpoint_and_events(sqlite3* db) {
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string out = "no answer";
  if (sqlite3_prepare_v2(db, "SELECT (SELECT position FROM projection_checkpoints WHERE projection = 'Ledger'), "
                             "(SELECT sum(events) FROM ledger)", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    out = std::to_string(sqlite3_column_int64(stmt, 0)) + "|" + std::to_string(sqlite3_column_int64(stmt, 1));
  else
    out = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  return out;
}

interlock::projection_status status_of(interlock::application& app) {
  auto all = app.status();
  REQUIRE(all);
  return all->front();
}

std::string totals(interlock::application& app, std::uint64_t after = 0) {
  auto got = app.query(Totals{}, {.after = after, .timeout = 5s});
  REQUIRE(got);
  return *got;
}

bool shadow_files_in(const temp_dir& dir) {
  for (auto& f : std::filesystem::directory_iterator{dir.path()})
    if (f.path().filename().string().find(".rebuild-") != std::string::npos) return true;
  return false;
}

void wait_for(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  REQUIRE(done());
}

// The two stores the tests that hold on both run on: what each starts, where
// its shadow goes, and how its read store looks from outside.
struct on_sqlite {
  temp_dir dir;
  caf::expected<interlock::application> start(caf::actor_system& sys, std::size_t read_batch = 4) {
    return ::start(sys, dir.file("bank.db"), read_batch);
  }
  bool shadow_left() const { return shadow_files_in(dir); }
  std::string checkpoint() const {
    auto rows = raw_db{dir.file("bank.read.db")}.rows("SELECT position FROM projection_checkpoints WHERE "
                                                      "projection = 'Ledger'");
    return rows.empty() ? std::string{} : rows.front();
  }
  std::string ledger_indexes() const {
    auto rows = raw_db{dir.file("bank.read.db")}.rows("SELECT name FROM sqlite_schema WHERE tbl_name = 'ledger' "
                                                      "AND type = 'index' ORDER BY name");
    std::string out;
    for (const auto& r : rows) out += (out.empty() ? "" : ",") + r;
    return out;
  }
  static constexpr const char* own_indexes = "ledger_by_amount,sqlite_autoindex_ledger_1";
};

struct on_postgres {
  postgres_schemas pg;
  caf::expected<interlock::application> start(caf::actor_system& sys, std::size_t read_batch = 4) {
    return ::start(sys, pg, read_batch);
  }
  bool shadow_left() const { return pg.shadow_schemas(); }
  std::string checkpoint() const {
    return pg.value("SELECT position FROM @.projection_checkpoints WHERE projection = 'Ledger'");
  }
  std::string ledger_indexes() const {
    return pg.value("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = '" +
                    pg.read + "' AND tablename = 'ledger'");
  }
  static constexpr const char* own_indexes = "ledger_by_amount,ledger_pkey";
};

}  // namespace

TEMPLATE_TEST_CASE("durable rebuild: the old tables answer and apply live events while new ones are built, then "
                   "are replaced",
                   "[durable][rebuild]", on_sqlite, on_postgres) {
  reset_flags();
  TestType store;
  actor_env env;
  caf::expected<interlock::application> app = store.start(env.sys);  // (not a dependent type)
  REQUIRE(app);
  auto h = deposit(*app, 60);
  REQUIRE(totals(*app, h.last) == h.totals());

  slow_shadow = 10;  // 63 events: over half a second, 4 a chunk
  auto rebuilt = std::async(std::launch::async, [&] { return app->rebuild<Ledger>(); });
  wait_for([] { return shadow_applied.load() > 0; });
  CHECK(status_of(*app).state == phase::rebuilding);
  CHECK(store.shadow_left());
  // The old tables answer, whole, and take live events, while the new ones are half built.
  CHECK(app->query(WhichModel{}).value() == 1);
  CHECK(totals(*app) == h.totals());
  h = deposit(*app, 5, h);
  CHECK(totals(*app, h.last) == h.totals());
  CHECK(app->query(Balance{{}, "a"}, {.after = h.last}).value() > 0);
  CHECK(rebuilt.wait_for(0ms) == std::future_status::timeout);
  CHECK(shadow_applied.load() < 60);

  slow_shadow = 0;
  REQUIRE_FALSE(rebuilt.get());
  CHECK(app->query(WhichModel{}).value() == 2);  // the new tables, holding what the old ones held
  CHECK(totals(*app) == h.totals());
  CHECK(status_of(*app).state == phase::live);
  CHECK(status_of(*app).position == h.last);
  CHECK_FALSE(store.shadow_left());
  h = deposit(*app, 3, h);  // and it goes on live, each event once
  CHECK(totals(*app, h.last) == h.totals());
  CHECK(store.checkpoint() == std::to_string(h.last));
  CHECK(store.ledger_indexes() == TestType::own_indexes);
}

TEST_CASE("durable rebuild: deposits all through it land in the new tables exactly once", "[durable][rebuild]") {
  reset_flags();
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"), 16);
  REQUIRE(app);
  auto h = deposit(*app, 600);
  background_deposits writer{*app, h};
  for (int round = 0; round < 3; ++round) REQUIRE_FALSE(app->rebuild<Ledger>());
  const auto during = writer.stop();
  CHECK(writer.failed.load() == 0);
  INFO(during.events - h.events << " deposits during three rebuilds");
  CHECK(during.events > h.events);
  CHECK(totals(*app, during.last) == during.totals());
  CHECK(app->query(WhichModel{}).value() == 4);
}

TEST_CASE("durable rebuild: two calls share one rebuild, reset() is refused meanwhile, and paused it stays paused",
          "[durable][rebuild]") {
  reset_flags();
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  auto h = deposit(*app, 30);
  REQUIRE(totals(*app, h.last) == h.totals());
  slow_shadow = 20;  // 33 events: well over half a second
  auto first = std::async(std::launch::async, [&] { return app->rebuild<Ledger>(); });
  wait_for([] { return made.load() == 2; });
  auto second = std::async(std::launch::async, [&] { return app->rebuild<Ledger>(); });
  std::this_thread::sleep_for(100ms);  // its request reaches the projection while the first one is held
  REQUIRE_FALSE(app->pause<Ledger>());
  CHECK(interlock::describe(app->reset<Ledger>(0)) ==
        "unavailable: projection Ledger is being rebuilt: reset() it once rebuild() returns");
  slow_shadow = 0;
  CHECK_FALSE(first.get());
  CHECK_FALSE(second.get());
  CHECK(made.load() == 2);  // one rebuild
  CHECK(status_of(*app).state == phase::paused);
  h = deposit(*app, 2, h);
  REQUIRE_FALSE(app->resume<Ledger>());
  CHECK(totals(*app, h.last) == h.totals());
}

TEMPLATE_TEST_CASE("durable rebuild: a handler that fails in the new tables abandons them, and the old ones stay "
                   "and answer",
                   "[durable][rebuild]", on_sqlite, on_postgres) {
  reset_flags();
  TestType store;
  actor_env env;
  caf::expected<interlock::application> app = store.start(env.sys);  // (not a dependent type)
  REQUIRE(app);
  auto h = deposit(*app, 20);
  REQUIRE(totals(*app, h.last) == h.totals());
  fail_at = 1010;  // the eighth deposit
  std::vector<std::string> logged;
  std::mutex lines;
  interlock::set_log_sink([&](interlock::log_level, std::string_view line) {
    std::lock_guard lock{lines};
    logged.emplace_back(line);
  });
  auto err = app->rebuild<Ledger>();
  interlock::set_log_sink(nullptr);
  REQUIRE(err);
  CHECK(interlock::is(err, errc::corrupt_event));
  CHECK_THAT(interlock::message_of(err), Contains("projection Ledger: the rebuild did not finish") &&
                                             Contains("the rebuilt ledger refuses it") &&
                                             Contains("the read model it was to replace stays"));
  CHECK(logged.size() == 1);
  CHECK(app->query(WhichModel{}).value() == 1);
  CHECK(totals(*app) == h.totals());
  CHECK(status_of(*app).state == phase::live);
  CHECK(status_of(*app).failure.empty());
  CHECK_FALSE(store.shadow_left());  // the shadow's file or schema is gone
  h = deposit(*app, 2, h);
  CHECK(totals(*app, h.last) == h.totals());

  fail_at = 0;  // the handler fixed: the next rebuild goes through
  REQUIRE_FALSE(app->rebuild<Ledger>());
  CHECK(app->query(WhichModel{}).value() == 3);
  CHECK(totals(*app, h.last) == h.totals());
}

TEST_CASE("durable rebuild: a reader of the read store sees the old tables or the new, each with its checkpoint",
          "[durable][rebuild]") {
  reset_flags();
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"), 64);
  REQUIRE(app);
  auto h = deposit(*app, 400);
  REQUIRE(totals(*app, h.last) == h.totals());
  std::atomic<bool> reading{true};
  std::atomic<int> reads{0};
  std::vector<std::string> mixed;
  std::thread reader{[&] {
    sqlite3* db = nullptr;
    sqlite3_open(dir.file("bank.read.db").c_str(), &db);
    sqlite3_busy_timeout(db, 5000);
    while (reading) {
      // Every event the tables hold is one position of the checkpoint read with them.
      auto seen = checkpoint_and_events(db);
      auto cut = seen.find('|');
      if (cut == std::string::npos || seen.substr(0, cut) != seen.substr(cut + 1)) mixed.push_back(seen);
      ++reads;
    }
    sqlite3_close(db);
  }};
  background_deposits writer{*app, h};
  for (int round = 0; round < 5; ++round) REQUIRE_FALSE(app->rebuild<Ledger>());
  const auto during = writer.stop();
  reading = false;
  reader.join();
  INFO(reads.load() << " reads; the first mixed one: " << (mixed.empty() ? "none" : mixed.front()));
  CHECK(reads.load() > 10);
  CHECK(mixed.empty());
  CHECK(writer.failed.load() == 0);
  CHECK(totals(*app, during.last) == during.totals());
}

TEST_CASE("durable rebuild: a shadow file a crash left is removed at start", "[durable][rebuild]") {
  reset_flags();
  temp_dir dir;
  {
    actor_env env;
    auto app = start(env.sys, dir.file("bank.db"));
    REQUIRE(app);
    deposit(*app, 0);
  }
  for (auto name : {"bank.read.db.rebuild-Ledger.db", "bank.read.db.rebuild-Ledger.db-wal"}) {
    std::ofstream leftover{dir.file(name)};
    leftover << "half a rebuild";
  }
  std::ofstream{dir.file("other.db.rebuild-Ledger.db")} << "not ours";
  REQUIRE(shadow_files_in(dir));
  std::vector<std::string> logged;
  interlock::set_log_sink([&](interlock::log_level, std::string_view line) { logged.emplace_back(line); });
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"));
  interlock::set_log_sink(nullptr);
  REQUIRE(app);
  CHECK_FALSE(std::filesystem::exists(dir.file("bank.read.db.rebuild-Ledger.db")));
  CHECK_FALSE(std::filesystem::exists(dir.file("bank.read.db.rebuild-Ledger.db-wal")));
  CHECK(std::filesystem::exists(dir.file("other.db.rebuild-Ledger.db")));
  REQUIRE(logged.size() == 1);
  CHECK_THAT(logged[0], Contains("bank.read.db.rebuild-Ledger.db") && Contains("a rebuild that did not finish"));
  CHECK(totals(*app) == "3|3|0");
}

TEST_CASE("durable rebuild: with an in-memory journal the new tables are built in memory too", "[durable][rebuild]") {
  reset_flags();
  actor_env env;
  auto app = start(env.sys, "");
  REQUIRE(app);
  auto h = deposit(*app, 10);
  REQUIRE(totals(*app, h.last) == h.totals());
  REQUIRE_FALSE(app->rebuild<Ledger>());
  CHECK(app->query(WhichModel{}).value() == 2);
  CHECK(totals(*app) == h.totals());
}

// -- on PostgreSQL: the new tables in a shadow schema beside the read schema --

TEST_CASE("durable rebuild on postgres: deposits all through rebuilds land in the new tables exactly once, and a "
          "reader sees the old tables or the new, each with its checkpoint",
          "[durable][rebuild]") {
  reset_flags();
  postgres_schemas pg;
  actor_env env;
  auto app = start(env.sys, pg, 64);
  REQUIRE(app);
  auto h = deposit(*app, 400);
  REQUIRE(totals(*app, h.last) == h.totals());
  std::atomic<bool> reading{true};
  std::atomic<int> reads{0};
  std::vector<std::string> mixed;
  std::thread reader{[&] {  // no Catch macro here
    auto db = interlock::postgres::connection::open(pg.url, 10s);
    if (!db) return mixed.push_back(interlock::describe(db.error()));
    const std::string sql = "SELECT (SELECT position FROM \"" + pg.read + "\".projection_checkpoints WHERE projection "
                            "= 'Ledger'), (SELECT sum(events) FROM \"" + pg.read + "\".ledger)";
    while (reading) {
      // One statement, one snapshot: every event the table holds is one position of the checkpoint read with it.
      auto r = db->run_one({sql}, 10s);
      if (!r) return mixed.push_back(interlock::describe(r.error()));
      if (r->text(0, 0) != r->text(0, 1)) mixed.push_back(std::string{r->text(0, 0)} + "|" + std::string{r->text(0, 1)});
      ++reads;
    }
  }};
  background_deposits writer{*app, h};
  for (int round = 0; round < 3; ++round) REQUIRE_FALSE(app->rebuild<Ledger>());
  const auto during = writer.stop();
  reading = false;
  reader.join();
  INFO(reads.load() << " reads; the first mixed one: " << (mixed.empty() ? "none" : mixed.front()));
  CHECK(reads.load() > 10);
  CHECK(mixed.empty());
  CHECK(writer.failed.load() == 0);
  CHECK(during.events > h.events);
  CHECK(totals(*app, during.last) == during.totals());
  CHECK(app->query(WhichModel{}).value() == 4);
}

TEST_CASE("durable rebuild on postgres: a shadow schema a crash left is dropped at start", "[durable][rebuild]") {
  reset_flags();
  postgres_schemas pg;
  {
    actor_env env;
    auto app = start(env.sys, pg);
    REQUIRE(app);
    deposit(*app, 0);
  }
  const auto left = interlock::postgres::shadow_schema_for(pg.read, "Ledger");
  using journal_testing::postgres_exec;
  REQUIRE(postgres_exec(pg.url, "CREATE SCHEMA \"" + left + "\""));
  REQUIRE(postgres_exec(pg.url, "COMMENT ON SCHEMA \"" + left + "\" IS '" +
                                    interlock::postgres::shadow_comment_for(pg.read, "Ledger") + "'"));
  REQUIRE(postgres_exec(pg.url, "CREATE TABLE \"" + left + "\".ledger (account TEXT)"));
  REQUIRE(pg.shadow_schemas());
  std::vector<std::string> logged;
  interlock::set_log_sink([&](interlock::log_level, std::string_view line) { logged.emplace_back(line); });
  actor_env env;
  auto app = start(env.sys, pg);
  interlock::set_log_sink(nullptr);
  REQUIRE(app);
  CHECK_FALSE(pg.shadow_schemas());
  REQUIRE(logged.size() == 1);
  CHECK_THAT(logged[0], Contains(left) && Contains("a rebuild that did not finish"));
  CHECK(totals(*app) == "3|3|0");
}
