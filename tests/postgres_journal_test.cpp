// What only the PostgreSQL journal promises, against a real server (the
// throwaway cluster of ctest's `postgres` fixture): errors that name the
// server, no call that waits without a bound, reconnecting once the server
// answers again, refusing a schema of another format, and positions that stay
// gapless and are never skipped with writers racing and batches rolled back.
// The conformance suite (journal_conformance_test.cpp) checks the contract.
#include <catch2/catch.hpp>

#include "journal_test_support.hpp"
#include "bank_domain.hpp"
#include "ledger_domain.hpp"
#include "test_support.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/postgres/statements.hpp>
#include <interlock/persistence/postgres_journal.hpp>
#include <interlock/runtime/interlock.hpp>

using namespace interlock;
using namespace journal_testing;
using namespace std::chrono_literals;

namespace {

// `url` with one more libpq parameter (the tests' URLs are postgresql:// URIs).
std::string with_param(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

std::string exec_ok(const std::string& url, const std::string& sql) {
  auto r = postgres_exec(url, sql);
  if (!r) FAIL(sql << ": " << interlock::describe(r.error()));
  return r->rows() > 0 ? std::string{r->text(0, 0)} : std::string{};
}

caf::error open_error(const postgres_options& options) {
  auto j = open_postgres_journal(options);
  REQUIRE_FALSE(j);
  return j.error();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("postgres journal: a server that is not there is a storage error naming it, in time", "[journal][postgres]") {
  const auto start = std::chrono::steady_clock::now();
  const auto err = open_error({"postgresql:///interlock_test?host=/nonexistent/interlock-no-server", "x", 2000ms});
  check_error(err, errc::storage, {"cannot connect to PostgreSQL server /nonexistent/interlock-no-server:5432",
                                   "database interlock_test", "No such file or directory"});
  CHECK(seconds_since(start) < 2.5);
}

TEST_CASE("postgres journal: a server that refuses the user is a storage error naming the user", "[journal][postgres]") {
  const auto url = with_param(postgres_test_url(), "user=interlock_nobody");
  // (The URL's user= comes last: libpq keeps the last value of a parameter.)
  const auto err = open_error({url, "x", 5000ms});
  check_error(err, errc::storage, {"cannot connect to PostgreSQL server", "user interlock_nobody",
                                   "role \"interlock_nobody\" does not exist"});
}

TEST_CASE("postgres journal: bad options are invalid_argument", "[journal][postgres]") {
  check_error(open_error({"", "x"}), errc::invalid_argument, {"url is empty"});
  check_error(open_error({postgres_test_url(), "Bad-Name"}), errc::invalid_argument, {"'Bad-Name'", "identifier"});
  check_error(open_error({postgres_test_url(), "x", 0ms}), errc::invalid_argument, {"timeout"});
}

TEST_CASE("postgres journal: a schema of another format version is refused, naming both", "[journal][postgres]") {
  postgres_backend backend;
  { open_journal(backend.factory); }
  exec_ok(backend.url, "UPDATE \"" + backend.schema + "\".journal_meta SET format_version = 99");
  check_error(open_error({backend.url, backend.schema}), errc::storage,
              {"journal schema '" + backend.schema + "'", "PostgreSQL server", "format version is 99",
               "reads format 2"});
}

TEST_CASE("postgres journal: a schema with an events table but no journal_meta is refused", "[journal][postgres]") {
  postgres_backend backend;
  exec_ok(backend.url, "CREATE SCHEMA \"" + backend.schema + "\"");
  exec_ok(backend.url, "CREATE TABLE \"" + backend.schema + "\".events (id integer)");
  check_error(open_error({backend.url, backend.schema}), errc::storage, {"not an Interlock journal"});
}

TEST_CASE("postgres journal: a reopened schema reads everything back and appends after it", "[journal][postgres]") {
  postgres_backend backend;
  std::vector<stored_event> before;
  {
    auto j = open_journal(backend.factory);
    append_ok(*j, request("A", "x", 0, 3));
    append_ok(*j, request("B", "y", 0, 2));
    before = read_everything(*j);
  }
  auto j = open_journal(backend.factory);
  check_same(read_everything(*j), before);
  CHECK(append_ok(*j, request("A", "x", 3, 1)).first_position == 6);
}

TEST_CASE("postgres journal: a connection the server ends gives a storage error, then the journal reconnects",
          "[journal][postgres]") {
  postgres_backend backend;
  const auto name = "victim_" + backend.schema;
  auto j = value_of(open_postgres_journal({with_param(backend.url, "application_name=" + name), backend.schema}));
  append_ok(*j, request("A", "x", 0, 1));
  CHECK(exec_ok(backend.url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
                                 name + "'") == "1");
  check_error(append_error(*j, request("A", "x", 1, 1)), errc::storage,
              {"cannot append to 'A/x'", "PostgreSQL server", "connection"});
  // The next call opens a new connection: the stream is where it was.
  CHECK(append_ok(*j, request("A", "x", 1, 1)).first_position == 2);
  CHECK(positions_of(read_everything(*j)) == iota(1, 2));
  // A read on a connection that was ended answers with an error too, then works.
  exec_ok(backend.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + name + "'");
  auto lost = j->read_all(1, 10);
  REQUIRE_FALSE(lost);
  check_error(lost.error(), errc::storage, {"cannot read the log", "PostgreSQL server"});
  CHECK(value_of(j->read_all(1, 10)).size() == 2);
}

TEST_CASE("postgres journal: a server that does not answer fails the call after the timeout, never hangs",
          "[journal][postgres]") {
  postgres_backend backend;
  auto j = value_of(open_postgres_journal({backend.url, backend.schema, 700ms}));
  append_ok(*j, request("A", "x", 0, 1));
  // Another session holds the counter row: the append waits on it, then gives up.
  auto holder = value_of(postgres::connection::open(backend.url, 5s));
  REQUIRE(holder.run({{"BEGIN"}, {"SELECT * FROM \"" + backend.schema + "\".journal_head FOR UPDATE"}}, 5s));
  const auto start = std::chrono::steady_clock::now();
  check_error(append_error(*j, request("A", "x", 1, 1)), errc::storage, {"no answer within 700 ms"});
  const auto waited = seconds_since(start);
  CHECK(waited >= 0.6);
  CHECK(waited < 2.0);
  REQUIRE(holder.run_one({"ROLLBACK"}, 5s));
  // Nothing of it committed; the journal goes on on a new connection.
  CHECK(append_ok(*j, request("A", "x", 1, 1)).first_position == 2);
  CHECK(positions_of(read_everything(*j)) == iota(1, 2));
}

TEST_CASE("postgres journal: a connection that goes away mid-batch answers at once with a storage error",
          "[journal][postgres]") {
  postgres_backend backend;
  const auto name = "midbatch_" + backend.schema;
  auto j = value_of(open_postgres_journal({with_param(backend.url, "application_name=" + name), backend.schema, 20s}));
  append_ok(*j, request("A", "x", 0, 1));
  // The append waits for the counter row inside its transaction; its server
  // process is ended there, long before its 20 s timeout.
  auto holder = value_of(postgres::connection::open(backend.url, 5s));
  REQUIRE(holder.run({{"BEGIN"}, {"SELECT * FROM \"" + backend.schema + "\".journal_head FOR UPDATE"}}, 5s));
  std::vector<caf::expected<append_result>> results;
  const auto start = std::chrono::steady_clock::now();
  std::thread appender([&] { results = j->append({request("A", "x", 1, 1), request("B", "y", 0, 2)}); });
  std::string ended = "0";
  for (int i = 0; i < 100 && ended == "0"; ++i) {
    std::this_thread::sleep_for(50ms);
    ended = exec_ok(backend.url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
                                     name + "' AND wait_event_type = 'Lock'");
  }
  appender.join();
  CHECK(ended == "1");
  CHECK(seconds_since(start) < 10);
  REQUIRE(results.size() == 2);
  for (auto& r : results) {
    REQUIRE_FALSE(r);
    check_error(r.error(), errc::storage, {"PostgreSQL server", "connection"});
  }
  REQUIRE(holder.run_one({"ROLLBACK"}, 5s));
  CHECK(append_ok(*j, request("A", "x", 1, 1)).first_position == 2);
  CHECK(positions_of(read_everything(*j)) == iota(1, 2));
}

TEST_CASE("postgres journal: a COMMIT that goes unanswered says the batch may have committed",
          "[journal][postgres]") {
  postgres_backend backend;
  { open_journal(backend.factory); }
  // The server takes a second over the events' insert, and so over the
  // second round trip, which ends in COMMIT.
  exec_ok(backend.url, "CREATE FUNCTION \"" + backend.schema +
                           "\".slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$");
  exec_ok(backend.url, "CREATE TRIGGER slow AFTER INSERT ON \"" + backend.schema +
                           "\".event_rows FOR EACH STATEMENT EXECUTE FUNCTION \"" + backend.schema + "\".slow()");
  auto j = value_of(open_postgres_journal({backend.url, backend.schema, 300ms}));
  check_error(append_error(*j, request("A", "x", 0, 1)), errc::storage,
              {"no answer within 300 ms", "the batch may have committed (its COMMIT went unanswered)"});
  // Whether it did is the server's to say: either way the log is whole.
  std::this_thread::sleep_for(1500ms);
  exec_ok(backend.url, "DROP TRIGGER slow ON \"" + backend.schema + "\".event_rows");
  const auto last = value_of(j->last_position());
  CHECK(last <= 1);
  CHECK(positions_of(read_everything(*j)) == iota(1, last));
  CHECK(append_ok(*j, request("A", "y", 0, 1)).first_position == last + 1);
}

TEST_CASE("postgres journal: a request the server refuses (a constraint, a value) fails alone, the rest of its batch lands",
          "[journal][postgres]") {
  postgres_backend backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 1));
  // What a person might add to the table: a check (SQLSTATE class 23) and a
  // value the server cannot convert (class 22: text that is not JSON).
  const auto in_schema = "\"" + backend.schema + "\".";
  exec_ok(backend.url, "ALTER TABLE " + in_schema + "event_types ADD CONSTRAINT no_poison CHECK (event_type <> 'Poison')");
  exec_ok(backend.url, "ALTER TABLE " + in_schema + "event_rows ADD CONSTRAINT json_only CHECK (payload::jsonb IS NOT NULL)");
  auto poisoned = request("P", "p", 0, 2);
  poisoned.events[1].type = "Poison";
  auto not_json = request("Q", "q", 0, 1);
  not_json.events[0].payload = "not json";
  auto results = j->append({request("A", "x", 1, 1), poisoned, request("B", "y", 0, 2), chained(request("P", "p", 2, 1)),
                            not_json, request("P", "p", 0, 1)});
  REQUIRE(results.size() == 6);
  CHECK(value_of(std::move(results[0])).first_position == 2);
  REQUIRE_FALSE(results[1]);
  check_error(results[1].error(), errc::storage,
              {"cannot append to 'P/p'", "PostgreSQL server", "no_poison", "SQLSTATE 23514"});
  const auto b = value_of(std::move(results[2]));
  CHECK((b.first_position == 3 && b.last_position == 4));
  REQUIRE_FALSE(results[3]);  // it rests on the refused one
  check_error(results[3].error(), errc::conflict, {"'P/p'", "not tried"});
  REQUIRE_FALSE(results[4]);
  check_error(results[4].error(), errc::storage, {"cannot append to 'Q/q'", "json", "SQLSTATE 22P02"});
  CHECK(value_of(std::move(results[5])).first_position == 5);
  CHECK(positions_of(read_everything(*j)) == iota(1, 5));
  CHECK(versions_of(value_of(j->read_stream("P", "p", 1, 10))) == iota(1, 1));
  CHECK(value_of(j->stream_version("Q", "q")) == 0);
  // Alone, it fails as it did; the journal goes on.
  check_error(append_error(*j, not_json), errc::storage, {"'Q/q'", "SQLSTATE 22P02"});
  CHECK(append_ok(*j, request("Q", "q", 0, 1)).first_position == 6);
}

TEST_CASE("postgres journal: text goes to the server as UTF-8, whatever client encoding the URL or environment asks",
          "[journal][postgres]") {
  postgres_backend backend;
  ::setenv("PGCLIENTENCODING", "LATIN1", 1);
  auto j = open_postgres_journal({with_param(backend.url, "client_encoding=LATIN1"), backend.schema});
  ::unsetenv("PGCLIENTENCODING");
  REQUIRE(j);
  auto req = request("A", "x", 0, 1);
  req.events[0].payload = "{\"a\":\"\u20ac \u00e9\"}";  // the euro sign has no LATIN1 byte
  append_ok(**j, req);
  CHECK(value_of((*j)->read_stream("A", "x", 1, 10)).at(0).payload == req.events[0].payload);
  // Another client reads the same characters (not the bytes taken as LATIN1).
  CHECK(exec_ok(backend.url, "SELECT payload = '" + req.events[0].payload + "' FROM \"" + backend.schema +
                                 "\".events") == "t");
}

TEST_CASE("postgres journal: positions stay gapless and are never skipped with writers racing and batches rolled back",
          "[journal][postgres]") {
  postgres_backend backend;
  { open_journal(backend.factory); }
  // A batch holding a "boom" event fails in the server after its events are
  // inserted and the counter row moved: the whole batch is rolled back.
  exec_ok(backend.url, "CREATE FUNCTION \"" + backend.schema +
                           "\".boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.payload = '{\"boom\":1}'"
                           " THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$");
  exec_ok(backend.url, "CREATE TRIGGER boom AFTER INSERT ON \"" + backend.schema +
                           "\".event_rows FOR EACH ROW EXECUTE FUNCTION \"" + backend.schema + "\".boom()");
  constexpr int writers = 4;
  constexpr int rounds = 60;
  struct outcome {
    std::uint64_t appended = 0, rolled_back = 0;
    std::vector<std::string> errors;
  };
  std::vector<outcome> outcomes(writers);
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      auto& out = outcomes[w];
      auto opened = backend.factory();
      if (!opened) return out.errors.push_back(interlock::describe(opened.error()));
      auto& j = **opened;
      std::uint64_t version = 0;
      for (int i = 0; i < rounds; ++i) {
        auto req = request("W", std::to_string(w), version, 1 + i % 4);
        const bool boom = i % 5 == 4;
        if (boom) req.events.back().payload = R"({"boom":1})";
        auto res = j.append({req, request("W", std::to_string(w) + "-side-" + std::to_string(i), 0, 1)});
        if (boom) {
          if (!res[0] && interlock::is(res[0].error(), errc::storage) && !res[1]) ++out.rolled_back;
          else out.errors.push_back("a boom batch was not rolled back");
          continue;
        }
        for (auto& r : res)
          if (!r) out.errors.push_back(interlock::describe(r.error()));
        if (res[0]) {
          version = res[0]->last_version;
          out.appended += req.events.size() + 1;
        }
      }
    });
  // A reader follows the log while they write: it must see every position,
  // in order, each exactly once (a reader that saw n+1 before n would skip n).
  std::vector<std::string> reader_errors;
  std::uint64_t read_up_to = 0;
  std::thread reader([&] {
    auto opened = backend.factory();
    if (!opened) return reader_errors.push_back(interlock::describe(opened.error()));
    for (bool last = false; !last;) {
      last = done.load();
      auto page = (*opened)->read_all(read_up_to + 1, 500);
      if (!page) return reader_errors.push_back(interlock::describe(page.error()));
      for (const auto& e : *page) {
        if (e.position != read_up_to + 1)
          return reader_errors.push_back("read position " + std::to_string(e.position) + " after " +
                                         std::to_string(read_up_to));
        read_up_to = e.position;
      }
      if (page->size() == 500) last = false;
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  std::uint64_t total = 0, rolled_back = 0;
  for (const auto& out : outcomes) {
    CHECK(out.errors == std::vector<std::string>{});
    total += out.appended;
    rolled_back += out.rolled_back;
  }
  CHECK(reader_errors == std::vector<std::string>{});
  CHECK(rolled_back == writers * rounds / 5);
  auto j = open_journal(backend.factory);
  CHECK(value_of(j->last_position()) == total);
  CHECK(positions_of(read_everything(*j)) == iota(1, total));
  CHECK(read_up_to == total);
}

TEST_CASE("postgres journal: an application runs on it with .postgres(url) or the settings, and restarts from it",
          "[journal][postgres][application]") {
  using testledger::Add;
  using testledger::Describe;
  using testledger::Ledger;
  postgres_backend backend;
  testing_support::actor_env env;
  const auto deposit = [](std::int64_t amount) {
    testbank::Deposit d;
    d.amount = amount;
    return d;
  };
  {
    auto app = interlock::application_builder{env.sys}
                   .aggregate<Ledger>()
                   .aggregate<testbank::Account>()
                   .postgres(backend.url, backend.schema)
                   .build();
    REQUIRE(app);
    REQUIRE(app->dispatch("a", Add{5, 3}));
    REQUIRE(app->dispatch("b", testbank::Open{"Ann"}));
    interlock::dispatch_options once;
    once.command_id = "deposit-once";
    const auto first = app->dispatch("b", deposit(10), once);
    INFO((first ? std::string{} : interlock::describe(first.error())));
    REQUIRE(first);
    CHECK(first->value == 10);
    const auto again = app->dispatch("b", deposit(10), once);  // a retry gets the first outcome
    REQUIRE(again);
    CHECK(again->value == 10);
    CHECK(again->position == first->position);
  }
  // The events are in the schema, where the settings point the next start.
  auto j = open_journal(backend.factory);
  CHECK(positions_of(read_everything(*j)) == iota(1, 5));
  interlock::runtime_settings settings;
  settings.postgres_url = backend.url;
  settings.postgres_schema = backend.schema;
  settings.snapshot_every = 2;
  auto app =
      interlock::application_builder{env.sys}.aggregate<Ledger>().aggregate<testbank::Account>().settings(settings).build();
  REQUIRE(app);
  const auto state = app->dispatch("a", Describe{});
  REQUIRE(state);
  CHECK(state->value == "v3 total 15 [5,5,5,]");
  const auto balance = app->dispatch("b", deposit(1));
  REQUIRE(balance);
  CHECK(balance->value == 11);
  REQUIRE(app->dispatch("a", Add{1, 2}));  // crosses a snapshot threshold: stored with its events
  CHECK(value_of(j->load_snapshot("Ledger", "a", 100, INT64_MAX)).has_value());
  const auto loaded = app->load_as_of<Ledger>("a");
  REQUIRE(loaded);
  CHECK(loaded->state.text() == "v5 total 17 [5,5,5,1,1,]");
}

// A connection keeps the versions its own batches left and trusts them only
// while the counter row is where its last batch left it.
TEST_CASE("postgres journal: a stream another connection appended to is read again, not taken from the last batch",
          "[journal][postgres]") {
  postgres_backend backend;
  auto first = open_journal(backend.factory);
  auto second = open_journal(backend.factory);
  append_ok(*first, request("A", "x", 0, 2));
  CHECK(append_ok(*second, request("A", "x", 2, 1)).last_version == 3);
  CHECK(is(append_error(*first, request("A", "x", 2, 1)), errc::conflict));
  CHECK(append_ok(*first, request("A", "x", 3, 1)).first_position == 4);
  // Another stream moves the counter too: the first connection reads A/x again.
  append_ok(*second, request("B", "y", 0, 1));
  CHECK(append_ok(*second, request("A", "x", 4, 1)).last_version == 5);
  CHECK(is(append_error(*first, request("A", "x", 4, 1)), errc::conflict));
  CHECK(append_ok(*first, request("A", "x", 5, 2)).last_version == 7);
  CHECK(positions_of(read_everything(*first)) == iota(1, 8));
  // A batch written the short way (one round trip, on the versions the
  // connection's last batch left) that finds the counter moved is rolled
  // back and goes the long way, landing after the other connection's.
  auto third = open_journal(backend.factory);
  append_ok(*third, request("C", "z", 0, 1));
  CHECK(append_ok(*third, request("C", "z", 1, 1)).first_position == 10);
  append_ok(*second, request("B", "y", 1, 1));
  const auto landed = append_ok(*third, request("C", "z", 2, 1));
  CHECK(landed.first_position == 12);
  CHECK(landed.last_version == 3);
  CHECK(positions_of(read_everything(*third)) == iota(1, 12));
  CHECK(versions_of(value_of(third->read_stream("C", "z", 1, 10))) == iota(1, 3));
}

TEST_CASE("postgres journal: a batch rolled back in the server leaves no version behind in the connection",
          "[journal][postgres]") {
  postgres_backend backend;
  auto j = open_journal(backend.factory);
  exec_ok(backend.url, "CREATE FUNCTION \"" + backend.schema +
                           "\".boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.payload = '{\"boom\":1}'"
                           " THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$");
  exec_ok(backend.url, "CREATE TRIGGER boom AFTER INSERT ON \"" + backend.schema +
                           "\".event_rows FOR EACH ROW EXECUTE FUNCTION \"" + backend.schema + "\".boom()");
  append_ok(*j, request("A", "x", 0, 1));
  auto boom = request("B", "y", 0, 1);
  boom.events.back().payload = R"({"boom":1})";
  auto res = j->append({request("A", "x", 1, 2), boom});
  REQUIRE_FALSE(res[0]);
  CHECK(is(res[0].error(), errc::storage));
  CHECK(is(append_error(*j, request("A", "x", 3, 1)), errc::conflict));
  CHECK(append_ok(*j, request("A", "x", 1, 1)).first_position == 2);
  CHECK(append_ok(*j, request("B", "y", 0, 1)).first_position == 3);
}

TEST_CASE("postgres journal: keys of streams and event types handed out by several connections read back as their names",
          "[journal][postgres]") {
  postgres_backend backend;
  auto one = open_journal(backend.factory);
  auto two = open_journal(backend.factory);
  const auto typed = [](append_request req, const std::string& type) {
    for (auto& e : req.events) e.type = type;
    return req;
  };
  // Each connection meets streams and event types the other made, by its
  // short way (all known) and its long way (something new), in turn.
  append_ok(*one, request("A", "x", 0, 2));
  append_ok(*two, typed(request("B", "y", 0, 1), "Opened"));
  append_ok(*two, request("A", "x", 2, 1));
  append_ok(*one, typed(request("A", "x", 3, 1), "Opened"));  // A's Opened is not B's
  append_ok(*one, request("A", "x", 4, 1));
  // A batch the server rolls back hands out keys that must not stay in the
  // connection: the next batch gives the same stream and type new keys.
  exec_ok(backend.url, "CREATE FUNCTION \"" + backend.schema +
                           "\".boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.payload = '{\"boom\":1}'"
                           " THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$");
  exec_ok(backend.url, "CREATE TRIGGER boom AFTER INSERT ON \"" + backend.schema +
                           "\".event_rows FOR EACH ROW EXECUTE FUNCTION \"" + backend.schema + "\".boom()");
  auto boom = typed(request("C", "z", 0, 1), "Closed");
  boom.events[0].payload = R"({"boom":1})";
  CHECK(is(append_error(*two, boom), errc::storage));
  append_ok(*one, typed(request("D", "w", 0, 1), "Closed"));
  append_ok(*two, typed(request("C", "z", 0, 1), "Closed"));
  append_ok(*two, typed(request("B", "y", 1, 1), "Closed"));

  struct named {
    std::string type, id, event_type;
    std::uint64_t version;
    bool operator==(const named&) const = default;
  };
  const std::vector<named> expected = {{"A", "x", "Happened", 1}, {"A", "x", "Happened", 2}, {"B", "y", "Opened", 1},
                                       {"A", "x", "Happened", 3}, {"A", "x", "Opened", 4},   {"A", "x", "Happened", 5},
                                       {"D", "w", "Closed", 1},   {"C", "z", "Closed", 1},   {"B", "y", "Closed", 2}};
  auto three = open_journal(backend.factory);  // knows no key
  for (auto* reader : {one.get(), two.get(), three.get()}) {
    const auto all = read_everything(*reader);
    std::vector<named> got;
    for (const auto& e : all) got.push_back({e.aggregate_type, e.aggregate_id, e.event_type, e.version});
    CHECK(got == expected);
    CHECK(positions_of(all) == iota(1, expected.size()));
  }
  log_filter closed;
  closed.event_types = {"Closed"};
  std::vector<std::string> streams;
  auto n = two->scan_filtered(1, 100, closed, [&](const event_view& e) {
    streams.push_back(std::string{e.aggregate_type} + "/" + std::string{e.aggregate_id});
    return true;
  });
  REQUIRE(n);
  CHECK(streams == std::vector<std::string>{"D/w", "C/z", "B/y"});
  CHECK(exec_ok(backend.url, "SELECT count(*) FROM \"" + backend.schema + "\".streams") == "4");
  CHECK(exec_ok(backend.url, "SELECT count(*) FROM \"" + backend.schema + "\".event_types") == "6");
  // The view people query shows the names too.
  CHECK(exec_ok(backend.url, "SELECT string_agg(aggregate_id || ':' || event_type, ',' ORDER BY position) FROM \"" +
                                 backend.schema + "\".events WHERE aggregate_type <> 'A'") ==
        "y:Opened,w:Closed,z:Closed,y:Closed");
}

TEST_CASE("postgres journal: a filtered read reads the index of its types, not the log before its events",
          "[journal][postgres][filter]") {
  using Catch::Matchers::Contains;
  postgres_backend backend;
  auto j = open_journal(backend.factory);
  // 200,000 events of one stream; every 1,000th a Rare one. Written straight
  // to the tables: the point is the plans the server picks for such a log.
  const auto in_schema = "\"" + backend.schema + "\".";
  exec_ok(backend.url, "INSERT INTO " + in_schema + "streams VALUES (1, 'A', 'x')");
  exec_ok(backend.url, "INSERT INTO " + in_schema + "event_types VALUES (1, 'A', 'Common'), (2, 'A', 'Rare')");
  exec_ok(backend.url, "INSERT INTO " + in_schema + "event_rows SELECT g, 1, g, CASE WHEN g % 1000 = 0 THEN 2 ELSE 1 END,"
                       " 1, '{}', 0, '', NULL, '' FROM generate_series(1, 200000) g");
  exec_ok(backend.url, "UPDATE " + in_schema + "journal_head SET last_position = 200000");
  exec_ok(backend.url, "VACUUM ANALYZE " + in_schema + "event_rows");
  const auto read = [&](const std::string& type, std::uint64_t from, std::size_t max) {
    log_filter f;
    f.event_types = {type};
    std::vector<std::uint64_t> seen;
    const auto n = value_of(j->scan_filtered(from, max, f, [&](const event_view& e) {
      if (e.event_type == type) seen.push_back(e.position);
      return true;
    }));
    CHECK(n == seen.size());
    return seen;
  };
  // Far apart: fetched one by one. Close together (some skipped): a range.
  CHECK(read("Rare", 150'001, 5) == std::vector<std::uint64_t>{151000, 152000, 153000, 154000, 155000});
  CHECK(read("Common", 149'998, 5) == std::vector<std::uint64_t>{149998, 149999, 150001, 150002, 150003});
  CHECK(read("Rare", 199'001, 5) == std::vector<std::uint64_t>{199000 + 1000});
  // The plans prepared statements settle on (generic plans).
  const auto q = postgres::make_statements(backend.schema);
  auto db = postgres::connection::open(backend.url, 10s);
  REQUIRE(db);
  auto plans = db->run({{"PREPARE positions(bigint, text[], text[], bigint) AS " + q.filtered_positions},
                        {"PREPARE range(bigint, bigint, integer[]) AS " + q.read_range_of_types},
                        {"SET plan_cache_mode = force_generic_plan"},
                        {"EXPLAIN (COSTS OFF) EXECUTE positions(1, '{}', '{Rare}', 100)"},
                        {"EXPLAIN (COSTS OFF) EXECUTE range(150001, 152000, '{1}')"}},
                       10s);
  REQUIRE(plans);
  const auto text_of = [](const postgres::result& plan) {
    std::string text;
    for (int r = 0; r < plan.rows(); ++r) text += std::string{plan.text(r, 0)} + "\n";
    return text;
  };
  const auto positions = text_of((*plans)[3]), range = text_of((*plans)[4]);
  INFO(positions << range);
  CHECK_THAT(positions, Contains("Index Only Scan using event_rows_by_type"));
  CHECK_THAT(positions, !Contains("event_rows_pkey"));  // no scan of the log by position
  CHECK_THAT(range, Contains("Index Scan using event_rows_pkey"));
}
