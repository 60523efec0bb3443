// The read side on PostgreSQL: read_db's PostgreSQL backend, what only the
// PostgreSQL read store promises (its schema, its one-writer lock), and
// durable read models of an application on a PostgreSQL journal, restarted
// for real. The read store's shared contract: read_store_conformance_test.cpp.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>

#include <interlock/persistence/postgres/placeholders.hpp>
#include <interlock/persistence/postgres_read_store.hpp>
#include <interlock/persistence/read_db.hpp>

#include "bank_domain.hpp"
#include "journal_test_support.hpp"
#include "read_store_backends.hpp"
#include "test_support.hpp"

using namespace interlock;
using namespace read_store_testing;
using Catch::Matchers::Contains;
using journal_testing::postgres_exec;
using testing_support::actor_env;

namespace {

// What `call` threw as sql_error (what(), code(), sqlstate()); "no error" if nothing.
struct thrown {
  std::string what = "no error";
  int code = -1;
  std::string sqlstate;
};
template <class F>
thrown sql_error_of(F&& call) {
  try {
    call();
  } catch (const sql_error& e) {
    return {e.what(), e.code(), e.sqlstate()};
  }
  return {};
}

}  // namespace

// -- read_db on PostgreSQL ---------------------------------------------------

TEST_CASE("read_db on postgres: ? numbered as $n outside literals, quoted names and comments", "[read_db]") {
  using postgres::number_placeholders;
  CHECK(number_placeholders("SELECT ? + ?").sql == "SELECT $1 + $2");
  CHECK(number_placeholders("SELECT ? + ?").parameters == 2);
  const auto kept = number_placeholders(
      "SELECT '?', 'it''s ?', E'\\'?', \"a?\", $$ ? $$, $t$ ? $t$ /* ? /* ? */ ? */, ? -- ?\n, ?");
  CHECK(kept.sql == "SELECT '?', 'it''s ?', E'\\'?', \"a?\", $$ ? $$, $t$ ? $t$ /* ? /* ? */ ? */, $1 -- ?\n, $2");
  CHECK(kept.parameters == 2);
  CHECK(number_placeholders("SELECT ?2, ?1, ?").sql == "SELECT $2, $1, $3");
  CHECK(number_placeholders("SELECT 'unterminated ?").parameters == 0);
}

TEST_CASE("read_db on postgres: typed parameters and columns, NULL as nullopt, RETURNING", "[read_db]") {
  postgres_store backend;
  auto store = open_store(backend.factory);
  auto& db = store->sql();
  CHECK(db.dialect() == sql_dialect::postgresql);
  db.exec("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, flag BOOLEAN, note TEXT, k INTEGER)");
  constexpr auto big = std::numeric_limits<std::int64_t>::max();
  CHECK(db.exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", "a", big, 1.5, true, std::optional<std::string>{"hï ?"},
                7) == 1);
  CHECK(db.exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", std::string{"b"}, std::int64_t{-7}, 0.25, false,
                std::nullopt, std::optional<int>{}) == 1);
  using row = std::tuple<std::string, std::int64_t, double, bool, std::optional<std::string>, std::optional<int>>;
  auto rows = db.rows<std::string, std::int64_t, double, bool, std::optional<std::string>, std::optional<int>>(
      "SELECT id, n, x, flag, note, k FROM t ORDER BY id");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == row{"a", big, 1.5, true, "hï ?", 7});
  CHECK(rows[1] == row{"b", -7, 0.25, false, std::nullopt, std::nullopt});
  CHECK(db.value<std::int64_t>("SELECT n FROM t WHERE id = ?", "b") == -7);
  CHECK_FALSE(db.value<std::int64_t>("SELECT n FROM t WHERE id = ?", "zzz"));
  CHECK(db.value<std::string>("SELECT note FROM t WHERE note = '?' OR id = ?", "a") == "hï ?");  // the '?' is text
  CHECK(db.value<std::int64_t>("SELECT count(*) FROM t WHERE n > ? AND flag = ?", 0, true) == 1);
  CHECK(db.value<std::int64_t>("SELECT sum(k) FROM t") == 7);  // numeric and int4 read as integers
  CHECK(db.value<double>("SELECT avg(x) FROM t") == 0.875);
  CHECK(db.exec("UPDATE t SET k = coalesce(k, 0) + 1") == 2);  // rows changed; the prepared statement runs again
  CHECK(db.exec("UPDATE t SET k = coalesce(k, 0) + 1") == 2);
  CHECK(db.value<std::int64_t>("INSERT INTO t (id) VALUES (?) ON CONFLICT DO NOTHING RETURNING length(id)", "ccc") ==
        3);
  CHECK_FALSE(db.value<std::int64_t>("INSERT INTO t (id) VALUES (?) ON CONFLICT DO NOTHING RETURNING 1", "ccc"));
  CHECK(db.exec("INSERT INTO t (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET n = 5", "ccc") == 1);
  CHECK(db.value<std::int64_t>("SELECT CAST(? AS BIGINT) + 1", 41) == 42);
}

TEST_CASE("read_db on postgres: mistakes throw sql_error naming the statement, with the SQLSTATE", "[read_db]") {
  postgres_store backend;
  auto store = open_store(backend.factory);
  auto& db = store->sql();
  db.exec("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)");
  auto e = sql_error_of([&] { db.exec("INSRT INTO t VALUES (?)", "a"); });
  CHECK_THAT(e.what, Contains("SQL 'INSRT INTO t VALUES (?)'") && Contains("syntax error"));
  CHECK(e.sqlstate == "42601");
  CHECK(e.code == 1);  // SQLITE_ERROR
  CHECK_THAT(sql_error_of([&] { db.exec("INSERT INTO t VALUES (?, 1)"); }).what, Contains("takes 1 parameters, given 0"));
  CHECK_THAT(sql_error_of([&] { db.exec("INSERT INTO t VALUES (?, 1)", "a", "b"); }).what, Contains("takes 1 parameters"));
  CHECK_THAT(sql_error_of([&] { db.exec("INSERT INTO t VALUES (?, 1)", std::string{"\xff"}); }).what,
             Contains("parameter 1 is not valid UTF-8"));
  CHECK_THAT(sql_error_of([&] { db.exec("INSERT INTO t VALUES (?, 1)", std::string{"a\0b", 3}); }).what,
             Contains("parameter 1 holds a NUL byte"));
  CHECK_THAT(sql_error_of([&] { db.exec("INSERT INTO t VALUES ('a', 1); DELETE FROM t"); }).what,
             Contains("cannot insert multiple commands"));
  CHECK_THAT(sql_error_of([&] { db.value<std::int64_t>("SELECT id FROM t"); }).what, Contains("no error"));  // no row
  db.exec("INSERT INTO t VALUES (?, ?)", "a", 1);
  CHECK_THAT(sql_error_of([&] { db.value<std::int64_t>("SELECT id FROM t"); }).what,
             Contains("SQL 'SELECT id FROM t'") && Contains("column 1 holds 'a', not a number"));
  CHECK_THAT(sql_error_of([&] { db.rows<std::string, std::string>("SELECT id FROM t"); }).what,
             Contains("reads column 2, but the statement returns 1"));
  e = sql_error_of([&] { db.exec("INSERT INTO t VALUES (?, ?)", "a", 2); });
  CHECK_THAT(e.what, Contains("duplicate key") && Contains("t_pkey"));
  CHECK(e.sqlstate == "23505");
  CHECK(e.code == 19);  // SQLITE_CONSTRAINT
  CHECK_FALSE(sql_error(e.what, e.code, e.sqlstate).storage_failure());
  CHECK_THAT(sql_error_of([&] { db.last_insert_rowid(); }).what, Contains("INSERT ... RETURNING"));
  CHECK(db.value<std::int64_t>("SELECT count(*) FROM t") == 1);  // outside a transaction, the next statement works
}

// -- the PostgreSQL read store -----------------------------------------------

TEST_CASE("postgres read store: its tables in the read schema, where unqualified names land too", "[read_store]") {
  postgres_store backend;
  {
    auto store = open_store(backend.factory);
    store->sql().exec("CREATE TABLE mine (n BIGINT)");
    REQUIRE_FALSE(store->begin());
    store->sql().exec("INSERT INTO mine VALUES (?)", 5);
    projection_checkpoint cp;
    cp.position = 12;
    REQUIRE_FALSE(store->save_checkpoint("Mine", cp));
    REQUIRE_FALSE(store->commit());
  }
  const auto s = "\"" + backend.schema + "\"";
  CHECK(server_value(backend.url, "SELECT n FROM " + s + ".mine") == "5");
  CHECK(server_value(backend.url, "SELECT position FROM " + s + ".projection_checkpoints WHERE projection = 'Mine'") ==
        "12");
  CHECK(server_value(backend.url, "SELECT value FROM " + s + ".read_store_meta WHERE key = 'format'") == "1");
}

TEST_CASE("postgres read store: a second owner of the read schema is refused, naming it, until the first closes",
          "[read_store]") {
  postgres_store backend;
  auto first = open_store(backend.factory);
  auto also_first = open_store(backend.factory);  // the same factory: the same owner
  // Another factory holds another session: as another process would.
  auto second = postgres_read_store_factory({backend.url, backend.schema})();
  REQUIRE_FALSE(second);
  CHECK(is(second.error(), errc::storage));
  CHECK_THAT(message_of(second.error()), Contains("read schema '" + backend.schema + "'") &&
                                             Contains("another process holds it") &&
                                             Contains("read_side.postgres_schema"));
  first.reset();
  CHECK_FALSE(postgres_read_store_factory({backend.url, backend.schema})());  // the factory's last store still holds it
  also_first.reset();
  auto now = postgres_read_store_factory({backend.url, backend.schema})();
  REQUIRE(now);
}

TEST_CASE("postgres read store: the journal's schema, someone else's tables and bad names are refused",
          "[read_store]") {
  journal_testing::postgres_backend journal;
  REQUIRE(journal.factory());
  auto on_journal = postgres_read_store_factory({journal.url, journal.schema})();
  REQUIRE_FALSE(on_journal);
  CHECK(is(on_journal.error(), errc::storage));
  CHECK_THAT(message_of(on_journal.error()),
             Contains("read schema '" + journal.schema + "'") && Contains("the journal's tables"));

  postgres_store other;
  REQUIRE(postgres_exec(other.url, "CREATE SCHEMA \"" + other.schema + "\""));
  REQUIRE(postgres_exec(other.url, "CREATE TABLE \"" + other.schema + "\".customers (id text)"));
  auto store = other.factory();
  REQUIRE_FALSE(store);
  CHECK_THAT(message_of(store.error()), Contains(other.schema) && Contains("not an Interlock read store"));

  auto bad = postgres_read_store_factory({other.url, "Bad-Name"})();
  REQUIRE_FALSE(bad);
  CHECK(is(bad.error(), errc::invalid_argument));
  CHECK_THAT(message_of(bad.error()), Contains("Bad-Name"));
}

TEST_CASE("postgres read store: a format this version does not know is refused, naming it", "[read_store]") {
  postgres_store backend;
  open_store(backend.factory);
  REQUIRE(postgres_exec(backend.url, "UPDATE \"" + backend.schema + "\".read_store_meta SET value = 9"));
  auto store = postgres_read_store_factory({backend.url, backend.schema})();
  REQUIRE_FALSE(store);
  CHECK(is(store.error(), errc::storage));
  CHECK_THAT(message_of(store.error()), Contains(backend.schema) && Contains("format 9") && Contains("reads format 1"));
}

TEST_CASE("postgres read store: a state with a NUL byte is refused, naming the projection", "[read_store]") {
  postgres_store backend;
  auto store = open_store(backend.factory);
  projection_checkpoint cp;
  cp.position = 1;
  cp.state = std::string{"{\"a\":\"\0\"}", 9};
  auto err = store->save_checkpoint("Balances", cp);
  REQUIRE(err);
  CHECK(is(err, errc::invalid_argument));
  CHECK_THAT(message_of(err), Contains("Balances") && Contains("NUL"));
  auto none = store->load_checkpoint("Balances");
  REQUIRE(none);
  CHECK_FALSE(*none);
}

TEST_CASE("postgres read store: a refused statement fails the transaction's commit, and nothing of it stays",
          "[read_store]") {
  postgres_store backend;
  auto store = open_store(backend.factory);
  store->sql().exec("CREATE TABLE t (id TEXT PRIMARY KEY)");
  REQUIRE_FALSE(store->begin());
  store->sql().exec("INSERT INTO t VALUES (?)", "a");
  CHECK(sql_error_of([&] { store->sql().exec("INSERT INTO t VALUES (?)", "a"); }).sqlstate == "23505");  // swallowed
  auto err = store->commit();
  REQUIRE(err);
  CHECK(is(err, errc::storage));
  CHECK_THAT(message_of(err), Contains("was refused") && Contains("rolled back"));
  CHECK(store->sql().value<std::int64_t>("SELECT count(*) FROM t") == 0);
  REQUIRE_FALSE(store->begin());  // the store goes on
  store->sql().exec("INSERT INTO t VALUES (?)", "b");
  REQUIRE_FALSE(store->commit());
  CHECK(store->sql().value<std::int64_t>("SELECT count(*) FROM t") == 1);
}

TEST_CASE("postgres read store: a connection the server ended is replaced at the next call, its statements "
          "prepared again",
          "[read_store]") {
  postgres_store backend;
  auto store = open_store(backend.factory);
  auto& db = store->sql();
  db.exec("CREATE TABLE t (n BIGINT)");
  CHECK(db.value<std::int64_t>("SELECT count(*) FROM t") == 0);
  const auto pid = std::to_string(*db.value<std::int64_t>("SELECT pg_backend_pid()"));
  REQUIRE(server_value(backend.url, "SELECT pg_terminate_backend(" + pid + ")") == "t");
  const auto lost = sql_error_of([&] { db.exec("INSERT INTO t VALUES (?)", 1); });  // finds it gone
  CHECK_THAT(lost.what, Contains("SQL 'INSERT INTO t VALUES (?)'"));
  CHECK(sql_error(lost.what, lost.code, lost.sqlstate).storage_failure());
  db.exec("INSERT INTO t VALUES (?)", 2);
  CHECK(db.value<std::int64_t>("SELECT count(*) FROM t") == 1);  // prepared before, prepared again
  CHECK(std::to_string(*db.value<std::int64_t>("SELECT pg_backend_pid()")) != pid);
  REQUIRE_FALSE(store->begin());
  REQUIRE_FALSE(store->save_checkpoint("T", projection_checkpoint{}));
  REQUIRE_FALSE(store->commit());
}

TEST_CASE("postgres read store: a lock lost with its session is taken again at the next transaction, or the "
          "transaction is refused if another process has it",
          "[read_store]") {
  postgres_store backend;
  auto store = open_store(backend.factory);
  store->sql().exec("CREATE TABLE t (n BIGINT)");
  const auto first = lock_session(backend.url, backend.schema);
  REQUIRE_FALSE(first.empty());
  for (int i = 0; i < 3; ++i) {  // held: transactions leave it where it is
    REQUIRE_FALSE(store->begin());
    store->sql().exec("INSERT INTO t VALUES (?)", i);
    REQUIRE_FALSE(store->commit());
  }
  CHECK(lock_session(backend.url, backend.schema) == first);

  end_session(backend.url, first, backend.schema);
  REQUIRE_FALSE(store->begin());  // taken again
  REQUIRE_FALSE(store->commit());
  const auto second = lock_session(backend.url, backend.schema);
  CHECK_FALSE(second.empty());
  CHECK(second != first);

  end_session(backend.url, second, backend.schema);
  auto other = postgres_read_store_factory({backend.url, backend.schema})();  // another process takes it meanwhile
  REQUIRE(other);
  auto err = store->begin();
  REQUIRE(err);
  CHECK(is(err, errc::storage));
  CHECK_THAT(message_of(err), Contains("read schema '" + backend.schema + "'") && Contains("another process holds it"));
  CHECK(store->sql().value<std::int64_t>("SELECT count(*) FROM t") == 3);
}

// -- an application on PostgreSQL: durable read models in the read schema ----

namespace {

using namespace testbank;

std::atomic<int> rows_applied{0};  // AccountTable's handlers run, in every instance

struct TableBalance : interlock::query<std::int64_t> {
  std::string account_id;
};

// The SQL of durable_projection_test.cpp's AccountRows, as it runs on both databases.
struct AccountTable {
  using events = interlock::types<Opened, Deposited>;
  using queries = interlock::types<TableBalance>;

  void create(read_db& db) {
    db.exec("CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, owner TEXT NOT NULL, "
            "amount BIGINT NOT NULL, deposits BIGINT NOT NULL)");
  }
  void reset(read_db& db) { db.exec("DELETE FROM balances"); }
  void on(const Opened& e, const interlock::event_envelope& env, read_db& db) {
    db.exec("INSERT INTO balances VALUES (?, ?, 0, 0)", env.aggregate_id, e.owner);
    ++rows_applied;
  }
  void on(const Deposited& e, const interlock::event_envelope& env, read_db& db) {
    if (e.tag == "boom") throw std::runtime_error("boom went the read model");
    db.exec("INSERT INTO balances (account, owner, amount, deposits) VALUES (?, '', ?, 1) ON CONFLICT (account) "
            "DO UPDATE SET amount = balances.amount + excluded.amount, deposits = balances.deposits + 1",
            env.aggregate_id, e.amount);
    ++rows_applied;
  }
  std::int64_t handle(const TableBalance& q, read_db& db) const {
    return db.value<std::int64_t>("SELECT amount FROM balances WHERE account = ?", q.account_id).value_or(-1);
  }
};

INTERLOCK_JSON(TableBalance, account_id)

// A journal schema and its read schema on the tests' server, dropped at the end.
struct postgres_app_schemas {
  std::string url = journal_testing::postgres_test_url();
  std::string schema = journal_testing::fresh_postgres_schema();
  std::string read_schema = schema + "_read";
  ~postgres_app_schemas() {
    postgres_exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    postgres_exec(url, "DROP SCHEMA IF EXISTS \"" + read_schema + "\" CASCADE");
  }
  // One cell of `sql`, whose "@." names the read schema's tables.
  std::string value(std::string sql) const {
    for (auto at = sql.find("@."); at != std::string::npos; at = sql.find("@.", at))
      sql.replace(at, 1, "\"" + read_schema + "\"");
    return server_value(url, sql);
  }
};

caf::expected<interlock::application> start_on(caf::actor_system& sys, const postgres_app_schemas& pg,
                                               interlock::runtime_settings settings = {}) {
  interlock::application_builder b{sys};
  b.settings(settings).postgres(pg.url, pg.schema);
  b.aggregate<Account>().projection<AccountTable>();
  return b.build();
}

// Opens a, b, c and deposits 1..n round them; the last position.
std::uint64_t deposit_round(interlock::application& app, int n, bool open = true) {
  std::uint64_t last = 0;
  if (open)
    for (auto id : {"a", "b", "c"}) REQUIRE(app.dispatch(id, Open{std::string{"owner "} + id}));
  for (int i = 1; i <= n; ++i) {
    auto r = app.dispatch(std::string{"abc"[i % 3]}, Deposit{{}, i, "t"});
    REQUIRE(r);
    last = r->position;
  }
  return last;
}

}  // namespace

TEST_CASE("durable on postgres: the table and the checkpoint change together, a restart goes on from there",
          "[durable]") {
  postgres_app_schemas pg;
  std::uint64_t last = 0;
  {
    actor_env env;
    auto app = start_on(env.sys, pg);
    REQUIRE(app);
    last = deposit_round(*app, 9);  // a: 3+6+9, b: 1+4+7, c: 2+5+8
    CHECK(app->query(TableBalance{{}, "a"}, {.after = last}).value() == 18);
  }
  CHECK(pg.value("SELECT string_agg(account || '=' || amount, ',' ORDER BY account) FROM @.balances") ==
        "a=18,b=12,c=15");
  CHECK(pg.value("SELECT position FROM @.projection_checkpoints WHERE projection = 'AccountTable'") ==
        std::to_string(last));

  rows_applied = 0;
  actor_env env;
  auto app = start_on(env.sys, pg);
  REQUIRE(app);
  CHECK(app->query(TableBalance{{}, "b"}, {.after = last}).value() == 12);
  CHECK(rows_applied == 0);  // the table was there, with its position
  auto r = app->dispatch("b", Deposit{{}, 100, "t"});
  REQUIRE(r);
  CHECK(app->query(TableBalance{{}, "b"}, {.after = r->position}).value() == 112);
  CHECK(rows_applied == 1);
  app->stop();
  CHECK(pg.value("SELECT amount FROM @.balances WHERE account = 'b'") == "112");
  CHECK(pg.value("SELECT position FROM @.projection_checkpoints WHERE projection = 'AccountTable'") ==
        std::to_string(r->position));
}

TEST_CASE("durable on postgres: a failing handler rolls back its table and its checkpoint, naming the event",
          "[durable]") {
  postgres_app_schemas pg;
  actor_env env;
  auto app = start_on(env.sys, pg);
  REQUIRE(app);
  const auto last = deposit_round(*app, 5);
  CHECK(app->query(TableBalance{{}, "a"}, {.after = last}).value() == 3);
  auto boom = app->dispatch("a", Deposit{{}, 1000, "boom"});
  REQUIRE(boom);
  auto answer = app->query(TableBalance{{}, "a"}, {.after = boom->position});
  REQUIRE_FALSE(answer);
  CHECK(interlock::is(answer.error(), errc::corrupt_event));
  CHECK_THAT(interlock::message_of(answer.error()),
             Contains("AccountTable") && Contains("Account/a") && Contains("boom went the read model"));
  CHECK(pg.value("SELECT string_agg(account || '=' || amount, ',' ORDER BY account) FROM @.balances") ==
        "a=3,b=5,c=7");
  CHECK(pg.value("SELECT position FROM @.projection_checkpoints") == std::to_string(last));
}

TEST_CASE("durable on postgres: a second application on the same read schema is refused at build()", "[durable]") {
  postgres_app_schemas pg;
  actor_env env;
  auto first = start_on(env.sys, pg);
  REQUIRE(first);
  actor_env env2;
  auto second = start_on(env2.sys, pg);
  REQUIRE_FALSE(second);
  CHECK(interlock::is(second.error(), errc::storage));
  CHECK_THAT(interlock::message_of(second.error()),
             Contains("read schema '" + pg.read_schema + "'") && Contains("another process holds it"));
  interlock::runtime_settings own;
  own.read_store_postgres_schema = pg.schema + "_second";
  auto with_its_own = start_on(env2.sys, pg, own);  // a read schema of its own: fine
  REQUIRE(with_its_own);
  with_its_own->stop();
  postgres_exec(pg.url, "DROP SCHEMA IF EXISTS \"" + own.read_store_postgres_schema + "\" CASCADE");
  own = {};
  own.read_store_in_memory = true;  // or projections in memory
  REQUIRE(start_on(env2.sys, pg, own));
}

TEST_CASE("durable on postgres: rebuild() builds new tables beside the old ones, swaps them in and ends equal to "
          "the journal",
          "[durable][rebuild]") {
  postgres_app_schemas pg;
  actor_env env;
  auto app = start_on(env.sys, pg);
  REQUIRE(app);
  const auto last = deposit_round(*app, 9);
  CHECK(app->query(TableBalance{{}, "a"}, {.after = last}).value() == 18);
  // The table drifted from the journal (a handler fixed since, say): the rebuild puts it right.
  REQUIRE(postgres_exec(pg.url, "UPDATE \"" + pg.read_schema + "\".balances SET amount = 0, deposits = 7"));
  CHECK(app->query(TableBalance{{}, "a"}).value() == 0);
  rows_applied = 0;
  REQUIRE_FALSE(app->rebuild<AccountTable>());
  CHECK(rows_applied == 12);  // 3 opened, 9 deposits: each once
  const auto from_journal = pg.value(
      "SELECT string_agg(aggregate_id || '=' || amount || '/' || deposits, ',' ORDER BY aggregate_id) FROM (SELECT "
      "aggregate_id, sum(coalesce((payload::json->>'amount')::bigint, 0)) AS amount, count(*) - 1 AS deposits FROM \"" +
      pg.schema + "\".events WHERE aggregate_type = 'Account' GROUP BY aggregate_id) j");
  CHECK(from_journal == "a=18/3,b=12/3,c=15/3");
  CHECK(pg.value("SELECT string_agg(account || '=' || amount || '/' || deposits, ',' ORDER BY account) FROM @.balances") ==
        from_journal);
  CHECK(pg.value("SELECT position FROM @.projection_checkpoints WHERE projection = 'AccountTable'") ==
        std::to_string(last));
  CHECK(pg.value("SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, '" + pg.read_schema + "_rebuild_')") ==
        "0");
  CHECK(app->query(TableBalance{{}, "a"}).value() == 18);
  auto r = app->dispatch("c", Deposit{{}, 100, "t"});  // and it goes on live on the new table
  REQUIRE(r);
  CHECK(app->query(TableBalance{{}, "c"}, {.after = r->position}).value() == 115);
  CHECK(rows_applied == 13);
}
