#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <interlock/persistence/sqlite_journal.hpp>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;
using interlock::errc;

namespace {

void exec_sql(const std::string& db, const std::string& sql) {
  sqlite3* conn = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &conn) == SQLITE_OK);
  char* err = nullptr;
  auto rc = sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(conn);
  REQUIRE(rc == SQLITE_OK);
}

std::string dump(const std::string& db) {
  auto j = interlock::open_sqlite_journal({db});
  REQUIRE(j);
  auto all = (*j)->read_all(1, 100000);
  REQUIRE(all);
  std::string out;
  for (auto& e : *all) out += std::to_string(e.position) + e.stream_name() + e.event_type + e.payload + "\n";
  return out;
}

// Three accounts, then damage one event in each of two of them.
void write_and_damage(const std::string& db) {
  {
    actor_env env;
    auto app = start_bank(env.sys, db);
    REQUIRE(app);
    for (auto id : {"bad-payload", "bad-type", "old-schema", "healthy"}) {
      REQUIRE(app->dispatch(id, Open{"o"}));
      REQUIRE(app->dispatch(id, Deposit{{}, 10, "t"}));
      REQUIRE(app->dispatch(id, Deposit{{}, 5, "u"}));
    }
  }
  auto in_stream = [](const char* id, int version) {
    return std::string{" WHERE version = "} + std::to_string(version) +
           " AND stream_key = (SELECT stream_key FROM streams WHERE aggregate_id = '" + id + "')";
  };
  exec_sql(db, "UPDATE events SET payload = '{\"amount\":\"ten\"}'" + in_stream("bad-payload", 2));
  exec_sql(db, "UPDATE events SET event_type = 'Mystery'" + in_stream("bad-type", 3));
  exec_sql(db, "UPDATE events SET schema_version = 7" + in_stream("old-schema", 2));
}

}  // namespace

TEST_CASE("corruption: bad events in the journal give errors naming stream, version and type", "[corruption]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  write_and_damage(db);
  auto before = dump(db);

  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);

  auto payload = app->dispatch("bad-payload", Deposit{{}, 1, "x"});
  REQUIRE_FALSE(payload);
  CHECK(interlock::is(payload.error(), errc::corrupt_event));
  CHECK_THAT(interlock::message_of(payload.error()),
             Catch::StartsWith("stream Account/bad-payload version 2 type Deposited: payload does not decode: "));

  auto type = app->dispatch("bad-type", Deposit{{}, 1, "x"});
  REQUIRE_FALSE(type);
  CHECK(interlock::describe(type.error()) ==
        "unknown_event_type: stream Account/bad-type version 3 type Mystery: aggregate Account has no event of "
        "this type in its `events` list");

  auto schema = app->dispatch("old-schema", Withdraw{1});
  REQUIRE_FALSE(schema);
  CHECK(interlock::describe(schema.error()) ==
        "schema_mismatch: stream Account/old-schema version 2 type Deposited: stored schema version 7, the code "
        "reads version 1 and no upcaster converts it");

  // The damaged aggregates keep answering with the same error, and healthy ones work.
  auto again = app->dispatch("bad-payload", Withdraw{1});
  REQUIRE_FALSE(again);
  CHECK(interlock::is(again.error(), errc::corrupt_event));
  auto healthy = app->dispatch("healthy", Withdraw{15});
  REQUIRE(healthy);

  // A projection that consumes the damaged event stops there and says why.
  auto balance = app->query(GetBalance{"healthy"});
  REQUIRE_FALSE(balance);
  CHECK(interlock::describe(balance.error()).find(
            "corrupt_event: projection Balances stopped: stream Account/bad-payload version 2 type Deposited") == 0);

  // Nothing stored was changed by any of this (except the one new, healthy event).
  app->stop();
  auto after = dump(db);
  CHECK(after.substr(0, before.size()) == before);
  CHECK(std::count(after.begin(), after.end(), '\n') == std::count(before.begin(), before.end(), '\n') + 1);
}

TEST_CASE("corruption: a hole in the global positions stops a projection with an error naming it", "[corruption]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  {
    actor_env env;
    auto app = start_bank(env.sys, db);
    REQUIRE(app);
    REQUIRE(app->dispatch("a", Open{"o"}));
    REQUIRE(app->dispatch("a", Deposit{{}, 1, "x"}));
    REQUIRE(app->dispatch("b", Open{"o"}));
  }
  exec_sql(db, "DELETE FROM events WHERE global_position = 2");
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  auto q = app->query(GetBalance{"a"});
  REQUIRE_FALSE(q);
  CHECK(interlock::describe(q.error()) ==
        "corrupt_event: projection Balances stopped: global position 2 is missing from the journal");
}
