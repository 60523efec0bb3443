// Checks read_store.hpp's contract against every read store, plus what only
// the SQLite read store promises (a file of its own, refusing other files).
#include <catch2/catch.hpp>

#include <chrono>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/memory_read_store.hpp>
#include <interlock/persistence/read_db.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/persistence/sqlite_read_store.hpp>

#include "raw_db.hpp"
#include "read_store_backends.hpp"
#include "test_support.hpp"

using namespace interlock;
using Catch::Matchers::Contains;
using testing_support::raw_db;
using testing_support::temp_dir;
using namespace read_store_testing;

namespace {

projection_checkpoint checkpoint_at(std::uint64_t position, std::string state, std::uint32_t state_version = 1) {
  projection_checkpoint cp;
  cp.position = position;
  cp.state = std::move(state);
  cp.state_version = state_version;
  return cp;
}

std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEMPLATE_TEST_CASE("read store: no checkpoint until one is saved, then what was saved", "[read_store]", memory_store,
                   sqlite_store, postgres_store) {
  TestType backend;
  auto store = open_store(backend.factory);
  auto none = store->load_checkpoint("Balances");
  REQUIRE(none);
  CHECK_FALSE(*none);

  const auto before = now_us();
  REQUIRE_FALSE(store->save_checkpoint("Balances", checkpoint_at(42, R"({"total":7})", 3)));
  auto found = store->load_checkpoint("Balances");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->position == 42);
  CHECK((*found)->state_version == 3);
  CHECK((*found)->state == R"({"total":7})");
  CHECK((*found)->saved_at_us >= before);
  CHECK((*found)->saved_at_us <= now_us());
  auto other = store->load_checkpoint("Tags");  // checkpoints are per projection
  REQUIRE(other);
  CHECK_FALSE(*other);
}

TEMPLATE_TEST_CASE("read store: a save replaces the checkpoint, a removal forgets it", "[read_store]", memory_store,
                   sqlite_store, postgres_store) {
  TestType backend;
  auto store = open_store(backend.factory);
  REQUIRE_FALSE(store->save_checkpoint("Balances", checkpoint_at(10, R"({"total":1})")));
  REQUIRE_FALSE(store->save_checkpoint("Tags", checkpoint_at(5, "")));  // a position alone
  REQUIRE_FALSE(store->save_checkpoint("Balances", checkpoint_at(20, R"({"total":2})")));
  auto found = store->load_checkpoint("Balances");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->position == 20);
  CHECK((*found)->state == R"({"total":2})");

  auto all = store->checkpoints();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].first == "Balances");
  CHECK((*all)[0].second.position == 20);
  CHECK((*all)[1].first == "Tags");
  CHECK((*all)[1].second.position == 5);
  CHECK((*all)[1].second.state.empty());

  REQUIRE_FALSE(store->remove_checkpoint("Balances"));
  REQUIRE_FALSE(store->remove_checkpoint("NeverSaved"));
  auto gone = store->load_checkpoint("Balances");
  REQUIRE(gone);
  CHECK_FALSE(*gone);
  all = store->checkpoints();
  REQUIRE(all);
  CHECK(all->size() == 1);
}

TEMPLATE_TEST_CASE("read store: text that is not UTF-8, or a bad name, is refused and nothing is stored",
                   "[read_store]", memory_store, sqlite_store, postgres_store) {
  TestType backend;
  auto store = open_store(backend.factory);
  REQUIRE_FALSE(store->save_checkpoint("Balances", checkpoint_at(1, R"({"total":1})")));

  auto err = store->save_checkpoint("Balances", checkpoint_at(2, "{\"memo\":\"\xff\"}"));
  REQUIRE(err);
  CHECK(is(err, errc::invalid_argument));
  CHECK_THAT(message_of(err), Contains("Balances") && Contains("not valid UTF-8") && Contains("0xff"));
  err = store->save_checkpoint(std::string{"Bal\0ances", 9}, checkpoint_at(2, "{}"));
  REQUIRE(err);
  CHECK(is(err, errc::invalid_argument));
  CHECK_THAT(message_of(err), Contains("projection name") && Contains("NUL"));
  err = store->save_checkpoint("", checkpoint_at(2, "{}"));
  REQUIRE(err);
  CHECK_THAT(message_of(err), Contains("empty"));

  auto kept = store->load_checkpoint("Balances");
  REQUIRE(kept);
  REQUIRE(*kept);
  CHECK((*kept)->position == 1);
  auto all = store->checkpoints();
  REQUIRE(all);
  CHECK(all->size() == 1);
}

TEMPLATE_TEST_CASE("read store: the stores of one factory share what they hold", "[read_store]", memory_store,
                   sqlite_store, postgres_store) {
  TestType backend;
  auto writer = open_store(backend.factory);
  auto reader = open_store(backend.factory);
  REQUIRE_FALSE(writer->save_checkpoint("Balances", checkpoint_at(9, "{}")));
  auto found = reader->load_checkpoint("Balances");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->position == 9);
}

TEMPLATE_TEST_CASE("read store: checkpoints and SQL between begin() and commit() land together, or not at all",
                   "[read_store]", memory_store, sqlite_store, postgres_store) {
  TestType backend;
  auto store = open_store(backend.factory);
  store->sql().exec("CREATE TABLE rows (n INTEGER)");
  REQUIRE_FALSE(store->begin());
  store->sql().exec("INSERT INTO rows VALUES (?)", 1);
  REQUIRE_FALSE(store->save_checkpoint("Rows", checkpoint_at(1, "")));
  REQUIRE_FALSE(store->commit());

  REQUIRE_FALSE(store->begin());
  store->sql().exec("INSERT INTO rows VALUES (?)", 2);
  REQUIRE_FALSE(store->save_checkpoint("Rows", checkpoint_at(2, "")));
  store->rollback();
  store->rollback();  // harmless without a transaction

  auto reader = open_store(backend.factory);  // another connection sees the same
  CHECK(reader->sql().template value<std::int64_t>("SELECT count(*) FROM rows") == 1);
  auto cp = reader->load_checkpoint("Rows");
  REQUIRE(cp);
  REQUIRE(*cp);
  CHECK((*cp)->position == 1);
}

// -- the SQLite read store only ----------------------------------------------

TEST_CASE("sqlite read store: checkpoints survive closing the file, readable with plain SQL", "[read_store]") {
  sqlite_store backend;
  {
    auto store = open_store(backend.factory);
    REQUIRE_FALSE(store->save_checkpoint("Balances", checkpoint_at(7, R"({"total":3})", 2)));
  }
  auto store = open_store(backend.factory);
  auto found = store->load_checkpoint("Balances");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->position == 7);
  CHECK((*found)->state == R"({"total":3})");
  raw_db raw{backend.path};
  CHECK(raw.rows("SELECT projection, position, state_version, state FROM projection_checkpoints") ==
        std::vector<std::string>{R"(Balances|7|2|{"total":3})"});
  CHECK(raw.rows("PRAGMA journal_mode") == std::vector<std::string>{"wal"});
}

TEST_CASE("sqlite read store: a journal file or another database is refused, naming the file", "[read_store]") {
  temp_dir dir;
  const auto journal_path = dir.file("bank.db");
  REQUIRE(open_sqlite_journal(sqlite_options{journal_path}));
  auto store = open_sqlite_read_store(journal_path);
  REQUIRE_FALSE(store);
  CHECK(is(store.error(), errc::storage));
  CHECK_THAT(message_of(store.error()), Contains(journal_path) && Contains("is it the journal?"));

  const auto other = dir.file("other.db");
  raw_db{other}.exec("CREATE TABLE customers (id TEXT)");
  store = open_sqlite_read_store(other);
  REQUIRE_FALSE(store);
  CHECK_THAT(message_of(store.error()), Contains(other) && Contains("not a read store"));
  CHECK(raw_db{other}.rows("SELECT name FROM sqlite_schema") == std::vector<std::string>{"customers"});  // untouched
}

TEST_CASE("sqlite read store: a format this version does not know is refused, naming it", "[read_store]") {
  sqlite_store backend;
  open_store(backend.factory);
  raw_db{backend.path}.exec("UPDATE read_store_meta SET value = 9 WHERE key = 'format'");
  auto store = open_sqlite_read_store(backend.path);
  REQUIRE_FALSE(store);
  CHECK(is(store.error(), errc::storage));
  CHECK_THAT(message_of(store.error()), Contains(backend.path) && Contains("format 9") && Contains("reads format 1"));
}

TEST_CASE("read store path: beside the journal", "[read_store]") {
  CHECK(read_store_path_for("data/bank.db") == "data/bank.read.db");
  CHECK(read_store_path_for("/var/lib/app/journal") == "/var/lib/app/journal.read.db");
  CHECK(read_store_path_for(".db") == ".db.read.db");
}
