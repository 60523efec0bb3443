// read_store::open_shadow and swap_in, on their own: what a durable read
// model's rebuild builds beside the tables, and how it replaces them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>

#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/memory_read_store.hpp>
#include <interlock/persistence/read_db.hpp>
#include <interlock/persistence/sqlite_read_store.hpp>

#include "read_store_backends.hpp"
#include "test_support.hpp"

using namespace interlock;
using Catch::Matchers::Contains;
using testing_support::temp_dir;
using namespace read_store_testing;

namespace {

std::unique_ptr<read_store> open_shadow(read_store& store, const std::string& name) {
  auto shadow = store.open_shadow(name);
  REQUIRE(shadow);
  return std::move(*shadow);
}

void in_transaction(read_store& store, const std::function<void(read_db&)>& body, std::uint64_t position = 0) {
  REQUIRE_FALSE(store.begin());
  body(store.sql());
  if (position > 0) {
    projection_checkpoint cp;
    cp.position = position;
    REQUIRE_FALSE(store.save_checkpoint("Rows", cp));
  }
  REQUIRE_FALSE(store.commit());
}

std::vector<std::string> schema_of(read_db& db) {
  std::vector<std::string> out;
  for (auto [type, name] : db.rows<std::string, std::string>(
           "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY type, name"))
    out.push_back(type + " " + name);
  return out;
}

std::uint64_t checkpoint_of(read_store& store) {
  auto cp = store.load_checkpoint("Rows");
  REQUIRE(cp);
  return *cp ? (*cp)->position : 0;
}

}  // namespace

TEMPLATE_TEST_CASE("read store swap: the shadow's tables, rows, indexes, views and triggers replace the old ones, "
                   "with the checkpoint", "[read_store][rebuild]", memory_store, sqlite_store) {
  TestType backend;
  std::unique_ptr<read_store> store = open_store(backend.factory);
  in_transaction(*store, [](read_db& db) {
    db.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)");
    db.exec("CREATE INDEX rows_old ON rows (v)");
    db.exec("CREATE TABLE gone (x)");  // the new read model no longer makes it: it stays
    db.exec("CREATE VIEW totals AS SELECT 'old' AS which");
    db.exec("INSERT INTO rows (v) VALUES ('old 1'), ('old 2')");
    db.exec("INSERT INTO gone VALUES (1)");
  }, 2);
  parked_event p1, p9;
  p1.position = 1;
  p9.position = 9;
  for (auto* p : {&p1, &p9}) {
    p->stream = "Account/a";
    p->event_type = "Deposited";
    p->error = "boom";
    REQUIRE_FALSE(store->park("Rows", *p));
  }

  std::unique_ptr<read_store> shadow = open_shadow(*store, "Rows");
  in_transaction(*shadow, [](read_db& db) {
    db.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT, w INTEGER)");
    db.exec("CREATE TABLE plain (k TEXT, n INTEGER)");
    db.exec("CREATE TABLE keyed (k TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID");
    db.exec("CREATE INDEX rows_by_w ON rows (w)");
    db.exec("CREATE VIEW totals AS SELECT count(*) AS which FROM rows");
    db.exec("CREATE TRIGGER count_plain AFTER INSERT ON plain BEGIN UPDATE keyed SET n = n + 1; END");
    for (int i = 1; i <= 5; ++i) db.exec("INSERT INTO rows (v, w) VALUES (?, ?)", "new " + std::to_string(i), i);
    db.exec("DELETE FROM rows WHERE id = 5");  // AUTOINCREMENT goes on after 5, not after the last row
    db.exec("INSERT INTO plain VALUES ('x', 1)");
    db.exec("INSERT INTO plain VALUES ('y', 2)");
    db.exec("DELETE FROM plain WHERE k = 'x'");  // 'y' keeps its rowid: 2
    db.exec("INSERT INTO keyed VALUES ('k', 0)");
  }, 7);
  // The tables in use are untouched until the swap.
  CHECK(store->sql().value<std::string>("SELECT which FROM totals") == "old");

  REQUIRE_FALSE(store->swap_in("Rows", *shadow, 7));
  read_db& db = store->sql();
  CHECK(schema_of(db) == std::vector<std::string>{
                             "index rows_by_w", "table gone", "table keyed", "table parked_events", "table plain",
                             "table projection_checkpoints", "table read_store_meta", "table rows",
                             "table sqlite_sequence", "trigger count_plain", "view totals"});
  CHECK(db.value<std::int64_t>("SELECT count(*) FROM rows") == 4);
  CHECK(db.value<std::string>("SELECT v || '/' || w FROM rows WHERE id = 4") == "new 4/4");
  CHECK(db.value<std::int64_t>("SELECT which FROM totals") == 4);
  CHECK(db.value<std::int64_t>("SELECT rowid FROM plain WHERE k = 'y'") == 2);
  CHECK(db.value<std::int64_t>("SELECT n FROM keyed") == 0);  // the trigger did not fire on the copy...
  db.exec("INSERT INTO plain VALUES ('z', 3)");
  CHECK(db.value<std::int64_t>("SELECT n FROM keyed") == 1);  // ...and does now
  db.exec("INSERT INTO rows (v, w) VALUES ('next', 6)");
  CHECK(db.last_insert_rowid() == 6);
  CHECK(db.value<std::int64_t>("SELECT count(*) FROM gone") == 1);
  CHECK(checkpoint_of(*store) == 7);
  auto parked = store->parked("Rows");
  REQUIRE(parked);
  REQUIRE(parked->size() == 1);  // the rebuild applied the one at 1
  CHECK(parked->front().position == 9);
}

TEST_CASE("read store swap: a swap that fails half way changes nothing, and the shadow's file goes with it",
          "[read_store][rebuild]") {
  temp_dir dir;
  const auto path = dir.file("app.read.db");
  auto store = open_store(sqlite_read_store_factory(path));
  in_transaction(*store, [](read_db& db) {
    db.exec("CREATE TABLE rows (v TEXT)");
    db.exec("INSERT INTO rows VALUES ('old')");
  }, 3);
  const auto file = dir.file("app.read.db.rebuild-Rows.db");
  {
    auto shadow = open_shadow(*store, "Rows");
    CHECK(std::filesystem::exists(file));
    in_transaction(*shadow, [](read_db& db) {
      db.exec("CREATE TABLE rows (v TEXT, w INTEGER)");
      db.exec("INSERT INTO rows VALUES ('new', 1)");
    }, 5);
    {  // a second table whose SQL the read store's connection cannot run: a collation only this one knows
      sqlite3* raw = nullptr;
      REQUIRE(sqlite3_open(file.c_str(), &raw) == SQLITE_OK);
      sqlite3_create_collation(raw, "only_here", SQLITE_UTF8, nullptr,
                               [](void*, int, const void*, int, const void*) { return 0; });
      REQUIRE(sqlite3_exec(raw, "CREATE TABLE odd (v TEXT COLLATE only_here)", nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(raw);
    }
    auto err = store->swap_in("Rows", *shadow, 5);
    REQUIRE(err);
    CHECK(is(err, errc::storage));
    CHECK_THAT(message_of(err), Contains("only_here"));
    // rows was replaced in the transaction before odd failed: rolled back with it.
    CHECK(store->sql().rows<std::string>("SELECT * FROM rows") == std::vector<std::tuple<std::string>>{{"old"}});
    CHECK(checkpoint_of(*store) == 3);
  }
  CHECK_FALSE(std::filesystem::exists(file));
  // Detached: the next rebuild's shadow attaches and swaps in.
  auto again = open_shadow(*store, "Rows");
  in_transaction(*again, [](read_db& db) { db.exec("CREATE TABLE rows (v TEXT, w INTEGER)"); }, 6);
  REQUIRE_FALSE(store->swap_in("Rows", *again, 6));
  CHECK(store->sql().value<std::int64_t>("SELECT count(*) FROM rows") == 0);
  CHECK(checkpoint_of(*store) == 6);
}
