// Durable read models: a projection whose handlers take read_db& keeps its
// read model in the read store's tables, each chunk of events committed with
// the checkpoint it reaches. Real files, real restarts.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include <sqlite3.h>

#include <interlock/persistence/read_db.hpp>

#include "bank_domain.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testbank;
using namespace testing_support;
using Catch::Matchers::Contains;
using interlock::errc;
using interlock::read_db;

namespace {

std::atomic<int> rows_applied{0};  // AccountRows' handlers run, in every instance

struct RowBalance : interlock::query<std::int64_t> {
  std::string account_id;
};
struct RowCount : interlock::query<std::int64_t> {};

struct AccountRows {
  using events = interlock::types<Opened, Deposited, Withdrawn>;
  using queries = interlock::types<RowBalance, RowCount>;

  void create(read_db& db) {
    db.exec("CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, owner TEXT NOT NULL, "
            "amount INTEGER NOT NULL, deposits INTEGER NOT NULL)");
  }
  void reset(read_db& db) { db.exec("DELETE FROM balances"); }

  void on(const Opened& e, const interlock::event_envelope& env, read_db& db) {
    db.exec("INSERT INTO balances VALUES (?, ?, 0, 0)", env.aggregate_id, e.owner);
    ++rows_applied;
  }
  void on(const Deposited& e, const interlock::event_envelope& env, read_db& db) {
    if (e.tag == "boom") throw std::runtime_error("boom went the read model");
    db.exec("UPDATE balances SET amount = amount + ?, deposits = deposits + 1 WHERE account = ?", e.amount,
            env.aggregate_id);
    ++rows_applied;
  }
  void on(const Withdrawn& e, const interlock::event_envelope& env, read_db& db) {
    db.exec("UPDATE balances SET amount = amount - ? WHERE account = ?", e.amount, env.aggregate_id);
    ++rows_applied;
  }
  std::int64_t handle(const RowBalance& q, read_db& db) const {
    return db.value<std::int64_t>("SELECT amount FROM balances WHERE account = ?", q.account_id).value_or(-1);
  }
  std::int64_t handle(const RowCount&, read_db& db) const {
    return *db.value<std::int64_t>("SELECT count(*) FROM balances");
  }
};

INTERLOCK_JSON(RowBalance, account_id)

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db,
                                            interlock::runtime_settings settings = {}) {
  interlock::application_builder b{sys};
  b.settings(settings);
  if (db.empty()) b.in_memory();
  else b.sqlite(db);
  b.aggregate<Account>().projection<AccountRows>();
  return b.build();
}

struct history {
  std::uint64_t last_position = 0;
  std::map<std::string, std::int64_t> balances;
};

history deposit(interlock::application& app, int deposits, history h = {}, const std::string& tag = "t") {
  const std::string ids[] = {"a", "b", "c"};
  if (h.last_position == 0)
    for (auto& id : ids) {
      REQUIRE(app.dispatch(id, Open{"owner " + id}));
      h.balances[id] = 0;
    }
  for (int i = 1; i <= deposits; ++i) {
    const auto& id = ids[i % 3];
    auto r = app.dispatch(id, Deposit{{}, i, tag});
    REQUIRE(r);
    h.balances[id] += i;
    h.last_position = r->position;
  }
  return h;
}

void check_balances(interlock::application& app, const history& h) {
  for (auto& [id, amount] : h.balances) {
    auto got = app.query(RowBalance{{}, id}, {.after = h.last_position});
    REQUIRE(got);
    CHECK(*got == amount);
  }
}

std::vector<std::string> table_rows(const std::string& read_store) {
  return raw_db{read_store}.rows("SELECT account, amount FROM balances ORDER BY account");
}

std::vector<std::string> rows_of(const history& h) {
  std::vector<std::string> out;
  for (auto& [id, amount] : h.balances) out.push_back(id + "|" + std::to_string(amount));
  return out;
}

}  // namespace

TEST_CASE("durable: events land in the tables, queries read them, a restart applies nothing twice", "[durable]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  history h;
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    h = deposit(*app, 20);
    check_balances(*app, h);
    CHECK(app->query(RowCount{}).value() == 3);
  }
  const auto read_store = dir.file("bank.read.db");
  CHECK(table_rows(read_store) == rows_of(h));
  CHECK(raw_db{read_store}.rows("SELECT position, state IS NULL FROM projection_checkpoints WHERE projection = "
                                "'AccountRows'") == std::vector<std::string>{std::to_string(h.last_position) + "|1"});

  rows_applied = 0;
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  check_balances(*app, h);
  CHECK(rows_applied == 0);  // the tables were there, with their position
  h = deposit(*app, 4, h);
  check_balances(*app, h);
  CHECK(rows_applied == 4);
  CHECK(table_rows(read_store) == rows_of(h));
}

TEST_CASE("durable: from tables and a checkpoint behind the journal, exactly the events after it", "[durable]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  history h;
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    h = deposit(*app, 12);  // positions 1-3 open a, b, c; 4-15 deposit 1..12 to b, c, a, b, c, a, ...
  }
  {  // as a crash right after the commit at position 9 (deposits 1..6) leaves them
    raw_db raw{dir.file("bank.read.db")};
    raw.exec("UPDATE balances SET amount = CASE account WHEN 'a' THEN 9 WHEN 'b' THEN 5 ELSE 7 END");
    raw.exec("UPDATE projection_checkpoints SET position = 9 WHERE projection = 'AccountRows'");
  }
  rows_applied = 0;
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  check_balances(*app, h);
  CHECK(rows_applied == 6);
}

TEST_CASE("durable: a catch-up over many chunks, then live events, in the tables", "[durable]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  interlock::runtime_settings s;
  s.read_batch = 7;  // many small chunks, one transaction each
  history h;
  {
    actor_env env;
    interlock::application_builder b{env.sys};
    b.settings(s).sqlite(db).aggregate<Account>();
    auto app = b.build();  // no projection yet: the journal fills first
    REQUIRE(app);
    h = deposit(*app, 100);
  }
  actor_env env;
  auto app = start(env.sys, db, s);
  REQUIRE(app);
  check_balances(*app, h);
  h = deposit(*app, 30, h);
  check_balances(*app, h);
  CHECK(table_rows(dir.file("bank.read.db")) == rows_of(h));
}

TEST_CASE("durable: a handler that throws stops the projection, naming the event, its chunk is not stored",
          "[durable]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  auto h = deposit(*app, 5);
  check_balances(*app, h);
  auto boom = app->dispatch("a", Deposit{{}, 1000, "boom"});
  REQUIRE(boom);
  auto answer = app->query(RowBalance{{}, "a"}, {.after = boom->position});
  REQUIRE_FALSE(answer);
  CHECK(interlock::is(answer.error(), errc::corrupt_event));
  CHECK_THAT(interlock::message_of(answer.error()),
             Contains("AccountRows") && Contains("Account/a") && Contains("boom went the read model"));
  // The tables and the checkpoint stayed where they were before that event.
  CHECK(table_rows(dir.file("bank.read.db")) == rows_of(h));
  CHECK(raw_db{dir.file("bank.read.db")}.rows("SELECT position FROM projection_checkpoints") ==
        std::vector<std::string>{std::to_string(h.last_position)});
}

TEST_CASE("durable: rebuild applies the journal again to new tables, each event once", "[durable]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  auto h = deposit(*app, 9);
  check_balances(*app, h);
  rows_applied = 0;
  REQUIRE_FALSE(app->rebuild<AccountRows>());
  check_balances(*app, h);
  CHECK(rows_applied == 12);  // 3 opens and 9 deposits, once each
  CHECK(app->query(RowCount{}).value() == 3);
}

TEST_CASE("durable: with an in-memory journal the tables live in memory", "[durable]") {
  actor_env env;
  auto app = start(env.sys, "");
  REQUIRE(app);
  auto h = deposit(*app, 6);
  check_balances(*app, h);
}

// -- read_db on its own ------------------------------------------------------

namespace {

struct scratch_db {
  sqlite3* raw = nullptr;
  scratch_db() { REQUIRE(sqlite3_open(":memory:", &raw) == SQLITE_OK); }
  ~scratch_db() { sqlite3_close_v2(raw); }
};

}  // namespace

TEST_CASE("read_db: typed parameters and columns, NULL as nullopt", "[durable]") {
  scratch_db s;
  read_db db{s.raw};
  db.exec("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, x REAL, flag INTEGER, note TEXT)");
  CHECK(db.exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)", "a", 42, 1.5, true, std::optional<std::string>{"hi"}) == 1);
  CHECK(db.exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)", std::string{"b"}, std::int64_t{-7}, 0.25, false,
                std::nullopt) == 1);
  CHECK(db.last_insert_rowid() == 2);
  auto rows = db.rows<std::string, std::int64_t, double, bool, std::optional<std::string>>(
      "SELECT id, n, x, flag, note FROM t ORDER BY id");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::tuple<std::string, std::int64_t, double, bool, std::optional<std::string>>{"a", 42, 1.5, true,
                                                                                                   "hi"});
  CHECK(rows[1] == std::tuple<std::string, std::int64_t, double, bool, std::optional<std::string>>{
                       "b", -7, 0.25, false, std::nullopt});
  int seen = 0;
  for (auto [id, n] : db.rows<std::string, int>("SELECT id, n FROM t WHERE n > ?", 0)) {
    CHECK(id == "a");
    CHECK(n == 42);
    ++seen;
  }
  CHECK(seen == 1);
  CHECK(db.value<std::int64_t>("SELECT n FROM t WHERE id = ?", "b") == -7);
  CHECK_FALSE(db.value<std::int64_t>("SELECT n FROM t WHERE id = ?", "zzz"));
  CHECK(db.exec("UPDATE t SET n = n + 1") == 2);  // rows changed; the cached statement runs again
  CHECK(db.exec("UPDATE t SET n = n + 1") == 2);
  CHECK(db.value<std::int64_t>("SELECT sum(n) FROM t") == 42 - 7 + 4);
}

TEST_CASE("read_db: mistakes throw sql_error naming the statement", "[durable]") {
  scratch_db s;
  read_db db{s.raw};
  db.exec("CREATE TABLE t (id TEXT PRIMARY KEY)");
  auto message = [&](auto&& call) -> std::string {
    try {
      call();
    } catch (const interlock::sql_error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK_THAT(message([&] { db.exec("INSRT INTO t VALUES (?)", "a"); }),
             Contains("SQL 'INSRT INTO t VALUES (?)'") && Contains("syntax error"));
  CHECK_THAT(message([&] { db.exec("INSERT INTO t VALUES (?)"); }), Contains("takes 1 parameters, given 0"));
  CHECK_THAT(message([&] { db.exec("INSERT INTO t VALUES (?)", "a", "b"); }), Contains("takes 1 parameters"));
  CHECK_THAT(message([&] { db.exec("INSERT INTO t VALUES (?)", std::string{"\xff"}); }),
             Contains("parameter 1 is not valid UTF-8"));
  CHECK_THAT(message([&] { db.exec("INSERT INTO t VALUES ('a'); DELETE FROM t"); }),
             Contains("more than one statement"));
  db.exec("INSERT INTO t VALUES (?)", "a");
  CHECK_THAT(message([&] { db.exec("INSERT INTO t VALUES (?)", "a"); }), Contains("UNIQUE constraint failed"));
  CHECK(db.value<std::int64_t>("SELECT count(*) FROM t") == 1);  // the statement after a failure works
}

TEST_CASE("durable: a hole in the journal stops the catch-up there, the events before it stored", "[durable]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  {
    actor_env env;
    interlock::application_builder b{env.sys};
    b.sqlite(db).aggregate<Account>();  // no projection yet: it meets the hole catching up
    auto app = b.build();
    REQUIRE(app);
    deposit(*app, 6);  // positions 1-9
  }
  raw_db{db}.exec("DELETE FROM events WHERE global_position = 7");
  interlock::runtime_settings s;
  s.read_batch = 2;  // the hole is a few chunks in
  actor_env env;
  auto app = start(env.sys, db, s);
  REQUIRE(app);
  auto q = app->query(RowCount{});
  REQUIRE_FALSE(q);
  CHECK(interlock::describe(q.error()) ==
        "corrupt_event: projection AccountRows stopped: global position 7 is missing from the journal");
  app->stop();
  CHECK(raw_db{dir.file("bank.read.db")}.rows("SELECT position FROM projection_checkpoints") ==
        std::vector<std::string>{"6"});
  CHECK(table_rows(dir.file("bank.read.db")) == std::vector<std::string>{"a|3", "b|1", "c|2"});
}
