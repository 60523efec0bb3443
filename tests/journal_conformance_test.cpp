// Checks journal.hpp's contract against every journal implementation (in
// memory, SQLite, PostgreSQL: postgres_backend cases run against the test
// cluster of ctest's `postgres` fixture), plus what only the SQLite journal
// promises (files, pragmas, the events view).
#include <catch2/catch.hpp>

#include "journal_test_support.hpp"
#include "old_format_files.hpp"
#include "raw_db.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/sec.hpp>
#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/memory_journal.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/persistence/sqlite_upgrade.hpp>

using namespace interlock;
using namespace journal_testing;
using testing_support::raw_db;
using Catch::Matchers::Contains;

// -- conformance: every journal -----------------------------------------------

TEMPLATE_TEST_CASE("journal: append then read_stream returns every envelope field", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_request req;
  req.aggregate_type = "BankAccount";
  req.aggregate_id = "acc-1";
  req.events = {{"AccountOpened", 1, R"({"owner":"Ann \"Zoë\" O'Brien"})"}, {"MoneyDeposited", 3, R"({"amount":5})"}};
  req.command_id = "cmd-1";
  req.correlation_id = "corr-1";
  req.causation_id = "cause-1";
  const auto before = now_us();
  const auto res = append_ok(*j, req);
  const auto after = now_us();
  CHECK(res.first_position == 1);
  CHECK(res.last_position == 2);
  CHECK(res.last_version == 2);
  CHECK(res.recorded_at_us >= before);
  CHECK(res.recorded_at_us <= after);

  const auto events = value_of(j->read_stream("BankAccount", "acc-1", 1, 100));
  REQUIRE(events.size() == 2);
  CHECK(events[0].position == 1);
  CHECK(events[0].aggregate_type == "BankAccount");
  CHECK(events[0].aggregate_id == "acc-1");
  CHECK(events[0].version == 1);
  CHECK(events[0].event_type == "AccountOpened");
  CHECK(events[0].schema_version == 1);
  CHECK(events[0].payload == R"({"owner":"Ann \"Zoë\" O'Brien"})");
  CHECK(events[0].recorded_at_us == res.recorded_at_us);
  CHECK(events[0].command_id == "cmd-1");
  CHECK(events[0].correlation_id == "corr-1");
  CHECK(events[0].causation_id == "cause-1");
  CHECK(events[0].stream_name() == "BankAccount/acc-1");
  CHECK(events[1].position == 2);
  CHECK(events[1].version == 2);
  CHECK(events[1].event_type == "MoneyDeposited");
  CHECK(events[1].schema_version == 3);
  CHECK(events[1].payload == R"({"amount":5})");
  // committed_events() predicts exactly what the journal stores, and
  // read_all() returns the same events as read_stream().
  check_same(events, committed_events(req, res));
  check_same(events, read_everything(*j));
}

TEMPLATE_TEST_CASE("journal: empty command, correlation and causation ids round-trip as empty", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  auto req = request("Order", "o-1", 0, 1);
  req.command_id.clear();
  req.correlation_id.clear();
  req.causation_id.clear();
  append_ok(*j, req);
  const auto events = value_of(j->read_stream("Order", "o-1", 1, 10));
  REQUIRE(events.size() == 1);
  CHECK(events[0].command_id.empty());
  CHECK(events[0].correlation_id.empty());
  CHECK(events[0].causation_id.empty());
}

TEMPLATE_TEST_CASE("journal: stream versions are 1-based and gapless", "[journal]", memory_backend,
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  CHECK(append_ok(*j, request("Account", "a", 0, 2)).last_version == 2);
  CHECK(append_ok(*j, request("Account", "a", 2, 1)).last_version == 3);
  CHECK(append_ok(*j, request("Account", "a", 3, 3)).last_version == 6);
  const auto events = value_of(j->read_stream("Account", "a", 1, 100));
  CHECK(versions_of(events) == iota(1, 6));
  for (const auto& ev : events) CHECK(ev.payload == R"({"v":)" + std::to_string(ev.version) + "}");
  CHECK(value_of(j->stream_version("Account", "a")) == 6);
}

TEMPLATE_TEST_CASE("journal: global positions are gapless across streams and batches", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  const auto r1 = append_ok(*j, request("Account", "a", 0, 2));
  const auto r2 = append_ok(*j, request("Order", "o", 0, 1));
  auto batch = j->append({request("Account", "a", 2, 2), request("Order", "o", 1, 3), request("Account", "b", 0, 1)});
  REQUIRE(batch.size() == 3);
  const auto r3 = value_of(std::move(batch[0]));
  const auto r4 = value_of(std::move(batch[1]));
  const auto r5 = value_of(std::move(batch[2]));
  CHECK((r1.first_position == 1 && r1.last_position == 2));
  CHECK((r2.first_position == 3 && r2.last_position == 3));
  CHECK((r3.first_position == 4 && r3.last_position == 5));
  CHECK((r4.first_position == 6 && r4.last_position == 8));
  CHECK((r5.first_position == 9 && r5.last_position == 9));
  // One batch, one commit time.
  CHECK(r3.recorded_at_us == r4.recorded_at_us);
  const auto all = read_everything(*j);
  CHECK(positions_of(all) == iota(1, 9));
  CHECK(all[5].aggregate_id == "o");
  CHECK(all[5].version == 2);
}

TEMPLATE_TEST_CASE("journal: a version conflict writes nothing and names the stream and versions", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("Account", "a-1", 0, 2));
  SECTION("expected behind the stream") {
    check_error(append_error(*j, request("Account", "a-1", 0, 1)), errc::conflict,
                {"'Account/a-1'", "at version 2", "expected version 0"});
  }
  SECTION("expected ahead of the stream") {
    check_error(append_error(*j, request("Account", "a-1", 5, 1)), errc::conflict,
                {"'Account/a-1'", "at version 2", "expected version 5"});
  }
  SECTION("a new stream expected to exist") {
    check_error(append_error(*j, request("Account", "new", 1, 1)), errc::conflict,
                {"'Account/new'", "at version 0", "expected version 1"});
    CHECK(value_of(j->stream_version("Account", "new")) == 0);
  }
  CHECK(value_of(j->last_position()) == 2);
  CHECK(value_of(j->stream_version("Account", "a-1")) == 2);
  CHECK(read_everything(*j).size() == 2);
}

TEMPLATE_TEST_CASE("journal: a conflicting request in a batch does not fail the others", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  auto results = j->append({request("A", "1", 0, 2), request("B", "1", 7, 1), request("C", "1", 0, 1)});
  REQUIRE(results.size() == 3);
  const auto first = value_of(std::move(results[0]));
  REQUIRE_FALSE(results[1]);
  check_error(results[1].error(), errc::conflict, {"'B/1'"});
  const auto third = value_of(std::move(results[2]));
  CHECK((first.first_position == 1 && first.last_position == 2));
  CHECK((third.first_position == 3 && third.last_position == 3));
  CHECK(positions_of(read_everything(*j)) == iota(1, 3));
  CHECK(value_of(j->stream_version("B", "1")) == 0);
}

TEMPLATE_TEST_CASE("journal: an after_previous request is appended only if the one before it was", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "1", 0, 1));  // A/1 at version 1
  // A chain that starts stale: its second link's expected version matches
  // the stream, but it rests on the first, so neither is appended.
  auto results = j->append({request("A", "1", 0, 1), chained(request("A", "1", 1, 1)), chained(request("A", "1", 2, 1)),
                            request("B", "1", 0, 1)});
  REQUIRE(results.size() == 4);
  check_error(results[0].error(), errc::conflict, {"'A/1' is at version 1, expected version 0"});
  for (std::size_t i : {1, 2}) {
    REQUIRE_FALSE(results[i]);
    check_error(results[i].error(), errc::conflict, {"'A/1'", "the request it follows (after_previous) failed"});
  }
  CHECK(value_of(std::move(results[3])).first_position == 2);  // not chained: appended
  CHECK(value_of(j->stream_version("A", "1")) == 1);
  // A chain that starts right is appended link by link.
  results = j->append({request("A", "1", 1, 2), chained(request("A", "1", 3, 1))});
  CHECK(value_of(std::move(results[0])).last_version == 3);
  CHECK(value_of(std::move(results[1])).last_version == 4);
  // An invalid request breaks the chain too.
  auto invalid = request("A", "1", 4, 1);
  invalid.events.clear();
  results = j->append({invalid, chained(request("A", "1", 4, 1))});
  check_error(results[0].error(), errc::invalid_argument, {});
  check_error(results[1].error(), errc::conflict, {"after_previous"});
  CHECK(positions_of(read_everything(*j)) == iota(1, 5));
}

TEMPLATE_TEST_CASE("journal: an after_previous chain spans batches and skips other streams' requests", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "1", 0, 1));  // A/1 at version 1
  // The link it rests on is in this batch but not next to it: B/1 between.
  auto results = j->append({request("A", "1", 0, 1), request("B", "1", 0, 1), chained(request("A", "1", 1, 1))});
  check_error(results[0].error(), errc::conflict, {"expected version 0"});
  CHECK(value_of(std::move(results[1])).first_position == 2);
  check_error(results[2].error(), errc::conflict, {"'A/1'", "after_previous"});
  // The link it rests on failed in an earlier batch: its expected version
  // matches the stream, yet it is not appended.
  results = j->append({chained(request("A", "1", 1, 1))});
  check_error(results[0].error(), errc::conflict, {"'A/1'", "after_previous"});
  // Other streams' chains are not touched: B/1's last request was appended.
  CHECK(value_of(j->append({chained(request("B", "1", 1, 1))}).at(0)).last_version == 2);
  // A request that rests on nothing mends A/1's chain; the next link holds.
  CHECK(value_of(j->append({request("A", "1", 1, 1)}).at(0)).last_version == 2);
  CHECK(value_of(j->append({chained(request("A", "1", 2, 1))}).at(0)).last_version == 3);
  CHECK(value_of(j->stream_version("A", "1")) == 3);
}

TEMPLATE_TEST_CASE("journal: requests of one batch on one stream see each other", "[journal]", memory_backend,
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  auto results = j->append({request("A", "x", 0, 1), request("A", "x", 1, 2), request("A", "x", 1, 1)});
  REQUIRE(results.size() == 3);
  CHECK(value_of(std::move(results[0])).last_version == 1);
  CHECK(value_of(std::move(results[1])).last_version == 3);
  REQUIRE_FALSE(results[2]);
  check_error(results[2].error(), errc::conflict, {"'A/x'", "at version 3", "expected version 1"});
  CHECK(versions_of(value_of(j->read_stream("A", "x", 1, 10))) == iota(1, 3));
}

TEMPLATE_TEST_CASE("journal: read_stream starts at a version and stops at max_count", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 2));
  append_ok(*j, request("B", "y", 0, 1));  // interleaved: stream order is not position order
  append_ok(*j, request("A", "x", 2, 3));
  CHECK(versions_of(value_of(j->read_stream("A", "x", 3, 100))) == iota(3, 5));
  CHECK(versions_of(value_of(j->read_stream("A", "x", 2, 2))) == iota(2, 3));
  CHECK(versions_of(value_of(j->read_stream("A", "x", 0, 100))) == iota(1, 5));
  CHECK(positions_of(value_of(j->read_stream("A", "x", 2, 2))) == std::vector<std::uint64_t>{2, 4});
  CHECK(value_of(j->read_stream("A", "x", 6, 100)).empty());
  CHECK(value_of(j->read_stream("A", "x", 1, 0)).empty());
  CHECK(value_of(j->read_stream("A", "nope", 1, 100)).empty());
}

TEMPLATE_TEST_CASE("journal: read_all starts at a position and stops at max_count", "[journal]", memory_backend,
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 3));
  append_ok(*j, request("B", "y", 0, 3));
  const auto page = value_of(j->read_all(3, 2));
  CHECK(positions_of(page) == iota(3, 4));
  REQUIRE(page.size() == 2);
  CHECK((page[0].aggregate_type == "A" && page[0].aggregate_id == "x" && page[0].version == 3));
  CHECK((page[1].aggregate_type == "B" && page[1].aggregate_id == "y" && page[1].version == 1));
  CHECK(positions_of(value_of(j->read_all(0, 100))) == iota(1, 6));
  CHECK(positions_of(value_of(j->read_all(5, 100))) == iota(5, 6));
  CHECK(value_of(j->read_all(7, 100)).empty());
  CHECK(value_of(j->read_all(1, 0)).empty());
}

TEMPLATE_TEST_CASE("journal: stream_version and last_position", "[journal]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  CHECK(value_of(j->last_position()) == 0);
  CHECK(value_of(j->stream_version("A", "x")) == 0);
  append_ok(*j, request("A", "x", 0, 3));
  append_ok(*j, request("B", "y", 0, 2));
  CHECK(value_of(j->last_position()) == 5);
  CHECK(value_of(j->stream_version("A", "x")) == 3);
  CHECK(value_of(j->stream_version("B", "y")) == 2);
  CHECK(value_of(j->stream_version("B", "x")) == 0);
}

TEMPLATE_TEST_CASE("journal: the same id under two aggregate types is two streams", "[journal]", memory_backend,
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("Account", "42", 0, 2));
  append_ok(*j, request("Customer", "42", 0, 1));
  CHECK(value_of(j->stream_version("Account", "42")) == 2);
  CHECK(value_of(j->stream_version("Customer", "42")) == 1);
  const auto customer = value_of(j->read_stream("Customer", "42", 1, 10));
  REQUIRE(customer.size() == 1);
  CHECK(customer[0].aggregate_type == "Customer");
  CHECK(customer[0].position == 3);
  CHECK(customer[0].version == 1);
}

TEMPLATE_TEST_CASE("journal: a second connection sees commits and appends after them", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto first = open_journal(backend.factory);
  auto second = open_journal(backend.factory);
  // Both connections look before anyone writes, so a connection that cached
  // what it saw would now be wrong.
  CHECK(value_of(first->last_position()) == 0);
  CHECK(value_of(second->stream_version("A", "x")) == 0);
  append_ok(*first, request("A", "x", 0, 2));
  CHECK(value_of(second->last_position()) == 2);
  CHECK(value_of(second->stream_version("A", "x")) == 2);
  CHECK(versions_of(value_of(second->read_stream("A", "x", 1, 10))) == iota(1, 2));

  const auto r2 = append_ok(*second, request("A", "x", 2, 1));
  CHECK((r2.first_position == 3 && r2.last_version == 3));
  const auto r3 = append_ok(*first, request("B", "y", 0, 2));
  CHECK((r3.first_position == 4 && r3.last_position == 5));
  check_error(append_error(*first, request("A", "x", 2, 1)), errc::conflict, {"'A/x'", "at version 3"});
  const auto r4 = append_ok(*first, request("A", "x", 3, 1));
  CHECK((r4.first_position == 6 && r4.last_version == 4));
  CHECK(positions_of(read_everything(*second)) == iota(1, 6));
  CHECK(versions_of(value_of(second->read_stream("A", "x", 1, 10))) == iota(1, 4));
}

TEMPLATE_TEST_CASE("journal: invalid arguments give invalid_argument", "[journal]", memory_backend,
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  auto no_type = request("", "x", 0, 1);
  auto no_id = request("A", "", 0, 1);
  auto no_events = request("A", "x", 0, 0);
  auto untyped_event = request("A", "x", 0, 2);
  untyped_event.events[1].type.clear();
  auto results = j->append({no_type, no_id, request("A", "ok", 0, 1), no_events, untyped_event});
  REQUIRE(results.size() == 5);
  REQUIRE_FALSE(results[0]);
  check_error(results[0].error(), errc::invalid_argument, {"aggregate_type"});
  REQUIRE_FALSE(results[1]);
  check_error(results[1].error(), errc::invalid_argument, {"aggregate_id"});
  // Invalid requests take no positions.
  CHECK(value_of(std::move(results[2])).first_position == 1);
  REQUIRE_FALSE(results[3]);
  check_error(results[3].error(), errc::invalid_argument, {"'A/x'", "no events"});
  REQUIRE_FALSE(results[4]);
  check_error(results[4].error(), errc::invalid_argument, {"'A/x'", "empty type"});
  CHECK(value_of(j->last_position()) == 1);
  CHECK(value_of(j->stream_version("A", "x")) == 0);

  auto read = j->read_stream("", "x", 1, 10);
  REQUIRE_FALSE(read);
  check_error(read.error(), errc::invalid_argument, {"aggregate_type"});
  auto version = j->stream_version("A", "");
  REQUIRE_FALSE(version);
  check_error(version.error(), errc::invalid_argument, {"aggregate_id"});
}

namespace {

// `req` recorded as a command of type `type` with result `result`.
append_request recorded(append_request req, const std::string& type, const std::string& result) {
  req.record_command = true;
  req.command_type = type;
  req.result_json = result;
  return req;
}

// A command to type/id decided at version `expected` and refused with `why`
// (errc::rejected): recorded, with no events and no result.
append_request refused(const std::string& type, const std::string& id, std::uint64_t expected, const std::string& why) {
  auto req = recorded(request(type, id, expected, 0), "Withdraw", "");
  req.refusal = make_error(errc::rejected, why);
  return req;
}

// The refusal a command record holds, as "errc: message" ("" if none).
std::string refusal_of(const command_record& rec) { return rec.refusal ? interlock::describe(rec.refusal) : ""; }

}  // namespace

TEMPLATE_TEST_CASE("journal: a recorded command is found with where its events landed, its type and result",
                   "[journal][command]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("B", "y", 0, 1));
  const auto res = append_ok(*j, recorded(request("A", "x", 0, 3), "Open", R"({"id":"x"})"));
  const auto found = value_of(j->find_command("cmd-x-0"));
  REQUIRE(found);
  CHECK((found->aggregate_type == "A" && found->aggregate_id == "x"));
  CHECK((found->first_position == 2 && found->last_position == 4 && found->last_version == 3));
  CHECK((res.first_position == 2 && res.last_position == 4 && res.last_version == 3));
  CHECK(found->result_json == R"({"id":"x"})");
  CHECK(found->command_type == "Open");
  CHECK_FALSE(found->refusal);
  CHECK_FALSE(value_of(j->find_command("cmd-y-0")));  // not recorded: it did not ask to be
}

TEMPLATE_TEST_CASE("journal: a recorded command without events stores only its outcome", "[journal][command]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 2));
  append_ok(*j, request("B", "y", 0, 1));
  const auto unchanged = recorded(request("A", "x", 2, 0), "Ping", R"({"pong":true})");
  const auto before = now_us();
  const auto res = append_ok(*j, unchanged);
  CHECK((res.first_position == 0 && res.last_position == 0 && res.last_version == 2));
  CHECK((res.recorded_at_us >= before && res.recorded_at_us <= now_us()));
  CHECK(committed_events(unchanged, res).empty());
  const auto found = value_of(j->find_command("cmd-x-2"));
  REQUIRE(found);
  CHECK((found->aggregate_type == "A" && found->aggregate_id == "x"));
  CHECK((found->first_position == 0 && found->last_position == 0 && found->last_version == 2));
  CHECK(found->result_json == R"({"pong":true})");
  CHECK(found->command_type == "Ping");
  CHECK(refusal_of(*found).empty());
  // It took no position and left the stream where it was.
  CHECK(value_of(j->last_position()) == 3);
  CHECK(value_of(j->stream_version("A", "x")) == 2);
  CHECK(versions_of(value_of(j->read_stream("A", "x", 1, 10))) == iota(1, 2));
  CHECK(append_ok(*j, request("A", "x", 2, 1)).first_position == 4);
  CHECK(positions_of(read_everything(*j)) == iota(1, 4));
}

TEMPLATE_TEST_CASE("journal: a refused command is recorded with its errc and message and stores nothing else",
                   "[journal][command]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 1));
  const auto req = refused("A", "x", 1, "balance 5 < 10 for Zo\xc3\xab");
  const auto res = append_ok(*j, req);
  CHECK((res.first_position == 0 && res.last_position == 0 && res.last_version == 1));
  CHECK(committed_events(req, res).empty());
  const auto found = value_of(j->find_command("cmd-x-1"));
  REQUIRE(found);
  CHECK((found->aggregate_type == "A" && found->aggregate_id == "x"));
  CHECK((found->first_position == 0 && found->last_position == 0 && found->last_version == 1));
  CHECK(found->result_json.empty());
  CHECK(found->command_type == "Withdraw");
  CHECK(code_of(found->refusal) == errc::rejected);
  CHECK(message_of(found->refusal) == "balance 5 < 10 for Zo\xc3\xab");
  CHECK(value_of(j->last_position()) == 1);
  CHECK(value_of(j->stream_version("A", "x")) == 1);
  CHECK(read_everything(*j).size() == 1);
}

TEMPLATE_TEST_CASE("journal: a refused command to a stream that does not exist is recorded, the stream still does not",
                   "[journal][command]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  const auto res = append_ok(*j, refused("A", "ghost", 0, "no such account"));
  CHECK((res.first_position == 0 && res.last_position == 0 && res.last_version == 0));
  const auto found = value_of(j->find_command("cmd-ghost-0"));
  REQUIRE(found);
  CHECK((found->aggregate_type == "A" && found->aggregate_id == "ghost" && found->last_version == 0));
  CHECK(refusal_of(*found) == "rejected: no such account");
  CHECK(value_of(j->stream_version("A", "ghost")) == 0);
  CHECK(value_of(j->read_stream("A", "ghost", 1, 10)).empty());
  CHECK(value_of(j->last_position()) == 0);
  // Its first events create it as usual, at version 1 and position 1.
  const auto first = append_ok(*j, request("A", "ghost", 0, 1));
  CHECK((first.first_position == 1 && first.last_version == 1));
  CHECK(versions_of(value_of(j->read_stream("A", "ghost", 1, 10))) == iota(1, 1));
}

TEMPLATE_TEST_CASE("journal: a recorded command without events conflicts unless its stream is at expected_version",
                   "[journal][command]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 2));
  check_error(append_error(*j, recorded(request("A", "x", 1, 0), "Ping", "{}")), errc::conflict,
              {"'A/x'", "at version 2", "expected version 1"});
  check_error(append_error(*j, refused("A", "x", 3, "too late")), errc::conflict,
              {"'A/x'", "at version 2", "expected version 3"});
  check_error(append_error(*j, refused("A", "new", 1, "stale")), errc::conflict,
              {"'A/new'", "at version 0", "expected version 1"});
  // Nothing of them was recorded, and no stream was left behind.
  CHECK_FALSE(value_of(j->find_command("cmd-x-1")));
  CHECK_FALSE(value_of(j->find_command("cmd-x-3")));
  CHECK_FALSE(value_of(j->find_command("cmd-new-1")));
  CHECK(value_of(j->stream_version("A", "new")) == 0);
  CHECK(value_of(j->stream_version("A", "x")) == 2);
  CHECK(append_ok(*j, request("A", "new", 0, 1)).first_position == 3);
  // In a batch, it sees the requests before it on its stream.
  auto stale = refused("A", "x", 2, "before");
  stale.command_id = "cmd-stale";
  auto results = j->append({recorded(request("A", "x", 2, 1), "Add", "1"), refused("A", "x", 3, "after"), stale});
  CHECK(value_of(std::move(results[0])).last_version == 3);
  CHECK(value_of(std::move(results[1])).last_version == 3);
  check_error(results[2].error(), errc::conflict, {"'A/x'", "at version 3", "expected version 2"});
}

TEMPLATE_TEST_CASE("journal: a command id recorded without events is not recorded twice", "[journal][command]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 1));
  append_ok(*j, recorded(request("A", "x", 1, 0), "Ping", "1"));  // cmd-x-1, no events
  append_ok(*j, refused("A", "ghost", 0, "no"));                  // cmd-ghost-0, refused, no stream
  auto with_events = recorded(request("A", "x", 1, 1), "Add", "2");
  auto refused_again = refused("A", "x", 1, "now refused");
  auto ghost_again = recorded(request("A", "ghost", 0, 1), "Open", "3");
  for (const auto* req : {&with_events, &refused_again, &ghost_again}) {
    INFO(req->command_id);
    check_error(append_error(*j, *req), errc::conflict, {"command cmd-", "committed before"});
  }
  CHECK_FALSE(value_of(j->find_command("cmd-x-1"))->refusal);  // the first outcome stays
  CHECK(value_of(j->find_command("cmd-x-1"))->result_json == "1");
  // The same id twice in one batch: the second fails.
  auto first = recorded(request("A", "x", 1, 0), "Ping", "4");
  auto second = refused("A", "x", 1, "again");
  first.command_id = second.command_id = "twice";
  auto batch = j->append({first, second});
  CHECK(value_of(std::move(batch[0])).last_version == 1);
  check_error(batch[1].error(), errc::conflict, {"command twice", "committed before"});
  CHECK(value_of(j->find_command("twice"))->result_json == "4");
  CHECK_FALSE(value_of(j->find_command("twice"))->refusal);
  CHECK(value_of(j->find_command("cmd-ghost-0"))->result_json.empty());
  CHECK(value_of(j->stream_version("A", "x")) == 1);
  CHECK(value_of(j->stream_version("A", "ghost")) == 0);
  CHECK(value_of(j->last_position()) == 1);
}

TEMPLATE_TEST_CASE("journal: a refusal stores nothing else, only a recorded command may have no events",
                   "[journal][command]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  auto with_events = refused("A", "x", 0, "no");
  with_events.events = request("A", "x", 0, 2).events;
  auto with_snapshot = refused("A", "x", 0, "no");
  with_snapshot.snapshot = snapshot_record{0, 1, "{}"};
  auto with_result = refused("A", "x", 0, "no");
  with_result.result_json = "{}";
  auto foreign = refused("A", "x", 0, "no");
  foreign.refusal = caf::make_error(caf::sec::runtime_error);
  auto bad_message = refused("A", "x", 0, "no");
  bad_message.refusal = make_error(errc::rejected, "bad \xff");
  auto not_recorded = refused("A", "x", 0, "no");
  not_recorded.record_command = false;
  auto unrecorded_empty = request("A", "x", 0, 0);
  auto snapshot_alone = recorded(request("A", "x", 0, 0), "Ping", "{}");
  snapshot_alone.snapshot = snapshot_record{0, 1, "{}"};
  const std::vector<std::pair<append_request, std::vector<std::string>>> cases{
      {with_events, {"'A/x'", "refusal", "2 events"}},
      {with_snapshot, {"'A/x'", "refusal", "snapshot"}},
      {with_result, {"'A/x'", "refusal", "result"}},
      {foreign, {"'A/x'", "not an interlock error"}},
      {bad_message, {"'A/x'", "message is not valid UTF-8 (byte 0xff at offset 4)"}},
      {not_recorded, {"'A/x'", "no events", "only a recorded command"}},
      {unrecorded_empty, {"'A/x'", "no events", "only a recorded command"}},
      {snapshot_alone, {"'A/x'", "snapshot but no events"}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    check_error(append_error(*j, cases[i].first), errc::invalid_argument, cases[i].second);
  }
  CHECK_FALSE(value_of(j->find_command("cmd-x-0")));
  CHECK(value_of(j->last_position()) == 0);
  CHECK(value_of(j->stream_version("A", "x")) == 0);
}

TEMPLATE_TEST_CASE("journal: text with a NUL byte or a schema version beyond 32 bits fails its request alone, named",
                   "[journal]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  using namespace std::string_literals;
  // Valid UTF-8 all, and each would fail a whole batch on PostgreSQL were it
  // sent: its text cannot hold a NUL, its integer column a version above 2^31-1.
  auto nul_payload = request("N", "p", 0, 2);
  nul_payload.events[1].payload = "{\"a\":\"x\0y\"}"s;
  auto nul_state = request("N", "s", 0, 1);
  nul_state.snapshot = snapshot_record{1, 1, "{\"a\":\"\0\"}"s};
  auto nul_result = recorded(request("N", "r", 0, 1), "Ping", "\"a\0\""s);
  auto nul_refusal = refused("N", "f", 0, "no\0pe"s);
  auto huge_schema = request("N", "v", 0, 1);
  huge_schema.events[0].schema_version = 2147483648u;
  auto huge_state = request("N", "w", 0, 1);
  huge_state.snapshot = snapshot_record{1, 4294967295u, "{}"};
  const std::vector<std::pair<append_request, std::vector<std::string>>> bad{
      {nul_payload, {"'N/p'", "payload of event 1 (version 2, type Happened)", "NUL byte at offset 7"}},
      {nul_state, {"'N/s'", "snapshot's state (version 1)", "NUL byte at offset 6"}},
      {nul_result, {"'N/r'", "result of command cmd-r-0 (type Ping)", "NUL byte at offset 2"}},
      {nul_refusal, {"'N/f'", "refusal whose message holds a NUL byte at offset 2"}},
      {huge_schema, {"'N/v'", "schema_version of event 0 (version 1, type Happened) is 2147483648", "2147483647"}},
      {huge_state, {"'N/w'", "state_version of the snapshot (version 1) is 4294967295"}},
  };
  // In one batch with valid requests: only the bad ones fail, and take no positions.
  std::vector<append_request> batch{request("A", "x", 0, 1)};
  for (const auto& b : bad) batch.push_back(b.first);
  batch.push_back(request("A", "y", 0, 2));
  auto results = j->append(batch);
  REQUIRE(results.size() == bad.size() + 2);
  CHECK(value_of(std::move(results.front())).first_position == 1);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    INFO("case " << i);
    REQUIRE_FALSE(results[i + 1]);
    check_error(results[i + 1].error(), errc::invalid_argument, bad[i].second);
  }
  const auto last = value_of(std::move(results.back()));
  CHECK((last.first_position == 2 && last.last_position == 3));
  CHECK(positions_of(read_everything(*j)) == iota(1, 3));
  for (const auto& id : {"p", "s", "r", "f", "v", "w"}) CHECK(value_of(j->stream_version("N", id)) == 0);
  CHECK_FALSE(value_of(j->find_command("cmd-r-0")));
  // \u0000 is how JSON carries a NUL: stored and read back as written.
  auto escaped = request("N", "p", 0, 1);
  escaped.events[0].payload = R"({"a":"x\u0000y"})";
  append_ok(*j, escaped);
  CHECK(value_of(j->read_stream("N", "p", 1, 10)).at(0).payload == R"({"a":"x\u0000y"})");
  // The largest schema version is stored.
  auto largest = request("N", "v", 0, 1);
  largest.events[0].schema_version = 2147483647u;
  append_ok(*j, largest);
  CHECK(value_of(j->read_stream("N", "v", 1, 10)).at(0).schema_version == 2147483647u);
}

TEMPLATE_TEST_CASE("journal: concurrent writers on separate connections stay gapless", "[journal]",
                   memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  constexpr int writers = 2;
  constexpr int rounds = 40;
  // Each writer appends to its own stream and races the others on a shared
  // one (read the version, append, retry on conflict). Catch2 assertions are
  // not thread-safe, so threads only record what happened.
  struct outcome {
    int own_ok = 0, shared_ok = 0, conflicts = 0;
    std::vector<std::string> errors;
  };
  std::vector<outcome> outcomes(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto& out = outcomes[w];
      auto opened = backend.factory();
      if (!opened) return out.errors.push_back(interlock::describe(opened.error()));
      auto& j = **opened;
      const auto id = "w" + std::to_string(w);
      for (int i = 0; i < rounds; ++i) {
        auto own = j.append({request("Own", id, static_cast<std::uint64_t>(i), 1)});
        if (own[0])
          ++out.own_ok;
        else
          out.errors.push_back(interlock::describe(own[0].error()));
        for (;;) {
          auto version = j.stream_version("Shared", "s");
          if (!version) return out.errors.push_back(interlock::describe(version.error()));
          auto shared = j.append({request("Shared", "s", *version, 1)});
          if (shared[0]) { ++out.shared_ok; break; }
          if (!interlock::is(shared[0].error(), errc::conflict))
            return out.errors.push_back(interlock::describe(shared[0].error()));
          ++out.conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& out : outcomes) {
    CHECK(out.errors == std::vector<std::string>{});
    CHECK(out.own_ok == rounds);
    CHECK(out.shared_ok == rounds);
  }
  auto j = open_journal(backend.factory);
  const std::uint64_t total = 2 * writers * rounds;
  CHECK(positions_of(read_everything(*j)) == iota(1, total));
  CHECK(versions_of(value_of(j->read_stream("Shared", "s", 1, total))) == iota(1, writers * rounds));
  for (int w = 0; w < writers; ++w)
    CHECK(versions_of(value_of(j->read_stream("Own", "w" + std::to_string(w), 1, total))) == iota(1, rounds));
}

TEMPLATE_TEST_CASE("journal: snapshots are stored with their events, the newest kept, loaded by version and time",
                   "[journal][snapshot]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  const auto with_snapshot = [](append_request req, const std::string& state, std::size_t keep) {
    req.snapshot = snapshot_record{req.expected_version + req.events.size(), 2, state};
    req.keep_snapshots = keep;
    return req;
  };
  const auto first = append_ok(*j, with_snapshot(request("A", "x", 0, 2), R"({"at":2})", 2));
  const auto second = append_ok(*j, with_snapshot(request("A", "x", 2, 2), R"({"at":4})", 2));
  // Two in one batch, one stream each: the third of A/x drops its oldest.
  auto batch = j->append({with_snapshot(request("A", "x", 4, 1), R"({"at":5})", 2),
                          with_snapshot(request("B", "y", 0, 1), R"({"b":1})", 2)});
  const auto third = value_of(std::move(batch[0]));
  REQUIRE(batch[1]);
  const auto newest = value_of(j->load_snapshot("A", "x", 100, INT64_MAX));
  REQUIRE(newest);
  CHECK((newest->version == 5 && newest->state_version == 2 && newest->state == R"({"at":5})"));
  CHECK(newest->recorded_at_us == third.recorded_at_us);
  const auto by_version = value_of(j->load_snapshot("A", "x", 4, INT64_MAX));
  REQUIRE(by_version);
  CHECK((by_version->version == 4 && by_version->state == R"({"at":4})"));
  CHECK(by_version->recorded_at_us == second.recorded_at_us);
  CHECK_FALSE(value_of(j->load_snapshot("A", "x", 3, INT64_MAX)));  // version 2's was dropped: 2 kept
  if (second.recorded_at_us < third.recorded_at_us) {
    const auto by_time = value_of(j->load_snapshot("A", "x", 100, third.recorded_at_us - 1));
    REQUIRE(by_time);
    CHECK(by_time->version == 4);
  }
  CHECK(first.recorded_at_us <= second.recorded_at_us);
  CHECK(value_of(j->load_snapshot("B", "y", 100, INT64_MAX))->state == R"({"b":1})");
  CHECK_FALSE(value_of(j->load_snapshot("B", "none", 100, INT64_MAX)));
  // A request that fails stores no snapshot.
  check_error(append_error(*j, with_snapshot(request("B", "y", 0, 1), R"({"stale":1})", 2)), errc::conflict, {"'B/y'"});
  CHECK(value_of(j->load_snapshot("B", "y", 100, INT64_MAX))->state == R"({"b":1})");
  auto bad = j->load_snapshot("", "x", 1, INT64_MAX);
  REQUIRE_FALSE(bad);
  check_error(bad.error(), errc::invalid_argument, {"aggregate_type"});
}

TEMPLATE_TEST_CASE("journal: a filtered log read visits the events of the listed types, in position order",
                   "[journal][filter]", memory_backend, sqlite_backend, postgres_backend) {
  TestType backend;
  auto j = open_journal(backend.factory);
  auto a = request("A", "1", 0, 3);
  a.events[1].type = "Other";
  auto b = request("B", "1", 0, 2);
  b.events[0].type = "Other";
  for (const auto& res : j->append({a, b, request("C", "1", 0, 1)})) REQUIRE(res);
  const auto visit = [&](const log_filter& f, std::uint64_t from, std::size_t max) {
    std::vector<std::uint64_t> seen;
    const auto n = value_of(j->scan_filtered(from, max, f, [&](const event_view& v) {
      seen.push_back(v.position);
      return true;
    }));
    CHECK(n == seen.size());
    return seen;
  };
  using positions = std::vector<std::uint64_t>;
  CHECK(visit({{}, {"Other"}}, 1, 100) == positions{2, 4});
  CHECK(visit({{"A", "C"}, {}}, 1, 100) == positions{1, 2, 3, 6});
  CHECK(visit({{"A", "B"}, {"Happened"}}, 2, 100) == positions{3, 5});
  CHECK(visit({{"A"}, {"Happened"}}, 1, 1) == positions{1});
  CHECK(visit({}, 5, 100) == positions{5, 6});
  CHECK(visit({{"Nope"}, {}}, 1, 100).empty());
  std::size_t calls = 0;  // a visitor that says stop is not called again, and the count includes it
  CHECK(value_of(j->scan_filtered(1, 100, log_filter{}, [&](const event_view&) { return ++calls < 2; })) == 2);
  CHECK(calls == 2);
}

// -- SQLite only --------------------------------------------------------------

namespace {


// `us` since the epoch as "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::string iso8601(std::int64_t us) {
  const std::time_t secs = us / 1'000'000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us % 1'000'000));
  return std::string{date} + frac;
}

caf::error open_error(const sqlite_options& options) {
  auto j = open_sqlite_journal(options);
  REQUIRE_FALSE(j);
  return j.error();
}

}  // namespace

TEST_CASE("sqlite journal: a reopened file reads everything back", "[journal][sqlite]") {
  sqlite_backend backend;
  std::vector<stored_event> before;
  {
    auto j = open_journal(backend.factory);
    append_ok(*j, request("A", "x", 0, 2));
    append_ok(*j, request("B", "y", 0, 1));
    append_ok(*j, request("A", "x", 2, 1));
    before = read_everything(*j);
  }
  auto j = value_of(open_sqlite_journal({backend.path}));
  check_same(read_everything(*j), before);
  CHECK(value_of(j->last_position()) == 4);
  CHECK(value_of(j->stream_version("A", "x")) == 3);
  const auto res = append_ok(*j, request("B", "y", 1, 1));
  CHECK((res.first_position == 5 && res.last_version == 2));
}

TEST_CASE("sqlite journal: commands recorded without events survive reopening, a refused one makes no stream row",
          "[journal][sqlite][command]") {
  sqlite_backend backend;
  {
    auto j = open_journal(backend.factory);
    append_ok(*j, request("A", "x", 0, 2));
    append_ok(*j, recorded(request("A", "x", 2, 0), "Ping", R"({"pong":1})"));
    append_ok(*j, refused("A", "ghost", 0, "no such account"));
    check_error(append_error(*j, refused("A", "stale", 4, "late")), errc::conflict, {"'A/stale'"});
  }
  {
    raw_db db{backend.path};
    CHECK(db.rows("SELECT aggregate_id FROM streams") == std::vector<std::string>{"x"});
    CHECK(db.rows("SELECT command_id, command_type, aggregate_type, aggregate_id, first_position, last_position,"
                  " last_version, result, quote(error_code), quote(error_message) FROM commands ORDER BY command_id") ==
          std::vector<std::string>{"cmd-ghost-0|Withdraw|A|ghost|0|0|0||" +
                                       std::to_string(static_cast<int>(errc::rejected)) + "|'no such account'",
                                   R"(cmd-x-2|Ping|A|x|0|0|2|{"pong":1}|NULL|NULL)"});
  }
  auto j = value_of(open_sqlite_journal({backend.path}));
  const auto ping = value_of(j->find_command("cmd-x-2"));
  REQUIRE(ping);
  CHECK((ping->aggregate_id == "x" && ping->first_position == 0 && ping->last_position == 0));
  CHECK((ping->last_version == 2 && ping->command_type == "Ping" && ping->result_json == R"({"pong":1})"));
  CHECK(refusal_of(*ping).empty());
  const auto ghost = value_of(j->find_command("cmd-ghost-0"));
  REQUIRE(ghost);
  CHECK((ghost->aggregate_type == "A" && ghost->aggregate_id == "ghost" && ghost->last_version == 0));
  CHECK((ghost->first_position == 0 && ghost->last_position == 0 && ghost->command_type == "Withdraw"));
  CHECK(refusal_of(*ghost) == "rejected: no such account");
  CHECK(value_of(j->stream_version("A", "ghost")) == 0);
  CHECK(value_of(j->last_position()) == 2);
  check_error(append_error(*j, refused("A", "ghost", 0, "again")), errc::conflict, {"command cmd-ghost-0"});
  CHECK(append_ok(*j, request("A", "ghost", 0, 1)).first_position == 3);
}

TEST_CASE("sqlite journal: events_view is readable with plain sqlite3", "[journal][sqlite]") {
  sqlite_backend backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("Account", "a", 0, 1));
  const auto res = append_ok(*j, request("BankAccount", "acc-1", 0, 1));
  raw_db db{backend.path};
  const auto rows = db.rows(
      "SELECT global_position, stream_id, aggregate_type, aggregate_id, version, event_type, schema_version,"
      " payload, recorded_at, command_id, correlation_id, causation_id FROM events_view");
  REQUIRE(rows.size() == 2);
  CHECK(rows[1] == "2|BankAccount/acc-1|BankAccount|acc-1|1|Happened|1|{\"v\":1}|" + iso8601(res.recorded_at_us) +
                       "|cmd-acc-1-0|corr-acc-1|cause-acc-1");
}

TEST_CASE("sqlite journal: the view's time keeps leading zeros of microseconds", "[journal][sqlite]") {
  sqlite_backend backend;
  { open_journal(backend.factory); }
  raw_db db{backend.path};
  // 2021-01-02T03:04:05.000042Z, written by hand to pin the fraction.
  db.exec("INSERT INTO streams VALUES (1, 'T', 'i', 1); INSERT INTO type_keys VALUES (1, 'T', 'E');"
          "INSERT INTO events VALUES (1, 1, 1, 'E', 1, '{}', 1609556645000042, NULL, NULL, NULL, 1);");
  CHECK(db.rows("SELECT recorded_at FROM events_view") == std::vector<std::string>{"2021-01-02T03:04:05.000042Z"});
  CHECK(iso8601(1609556645000042) == "2021-01-02T03:04:05.000042Z");
}

TEST_CASE("sqlite journal: a nonexistent directory is a storage error naming the path", "[journal][sqlite]") {
  check_error(open_error({"/nonexistent-dir/x.db"}), errc::storage,
              {"'/nonexistent-dir/x.db'", "unable to open database file"});
}

TEST_CASE("sqlite journal: a file that is not a database is a storage error", "[journal][sqlite]") {
  temp_dir dir;
  const auto path = (dir.path / "garbage.db").string();
  std::string garbage;
  for (int i = 0; i < 100; ++i) garbage += "this is not a database, just text\n";
  std::ofstream{path} << garbage;
  check_error(open_error({path}), errc::storage, {"'" + path + "'", "file is not a database"});
  std::ifstream in{path};
  std::stringstream content;
  content << in.rdbuf();
  CHECK(content.str() == garbage);  // untouched
}

TEST_CASE("sqlite journal: a SQLite file that is not a journal is refused", "[journal][sqlite]") {
  temp_dir dir;
  const auto path = (dir.path / "other.db").string();
  { raw_db{path}.exec("CREATE TABLE customers (name TEXT)"); }
  check_error(open_error({path}), errc::storage, {"'" + path + "'", "not an interlock journal"});
}

TEST_CASE("sqlite journal: an unknown format version is refused", "[journal][sqlite]") {
  sqlite_backend backend;
  { open_journal(backend.factory); }
  { raw_db{backend.path}.exec("UPDATE journal_meta SET value = 8 WHERE key = 'format_version'"); }
  check_error(open_error({backend.path}), errc::storage, {"'" + backend.path + "'", "format version 8"});
}

TEST_CASE("sqlite journal: WAL mode, synchronous FULL by default, options applied", "[journal][sqlite]") {
  temp_dir dir;
  const auto path = (dir.path / "j.db").string();
  auto j = value_of(open_sqlite_journal({path}));
  auto settings = value_of(settings_of(*j));
  CHECK(settings.journal_mode == "wal");
  CHECK(settings.synchronous == 2);
  CHECK(settings.busy_timeout_ms == 5000);
  CHECK(raw_db{path}.rows("PRAGMA journal_mode") == std::vector<std::string>{"wal"});

  auto relaxed = value_of(open_sqlite_journal({path, sync_mode::normal, 1234}));
  settings = value_of(settings_of(*relaxed));
  CHECK(settings.synchronous == 1);
  CHECK(settings.busy_timeout_ms == 1234);
  CHECK(value_of(open_sqlite_journal({path, sync_mode::extra})) != nullptr);

  auto memory = open_journal(memory_journal_factory());
  auto not_sqlite = settings_of(*memory);
  REQUIRE_FALSE(not_sqlite);
  check_error(not_sqlite.error(), errc::invalid_argument, {});
}

TEMPLATE_TEST_CASE("journal: a large batch of many streams reads back event by event", "[journal]", memory_backend,
                   sqlite_backend, postgres_backend) {
  // Enough events that the SQLite journal inserts most of them 16 rows a
  // statement and the rest one by one: each must land with its own fields.
  TestType backend;
  auto j = open_journal(backend.factory);
  std::vector<append_request> batch;
  std::map<std::string, std::uint64_t> versions;
  for (std::size_t i = 0; i < 45; ++i) {
    const auto id = "s" + std::to_string(i % 7);
    auto req = request("S", id, versions[id], 1 + i % 3);
    versions[id] += req.events.size();
    for (std::size_t e = 0; e < req.events.size(); ++e)
      req.events[e].payload = R"({"request":)" + std::to_string(i) + R"(,"event":)" + std::to_string(e) + "}";
    req.correlation_id = i % 2 == 0 ? req.command_id : "corr-" + std::to_string(i);
    batch.push_back(std::move(req));
  }
  auto results = j->append(batch);
  std::vector<stored_event> expected;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto events = committed_events(batch[i], value_of(std::move(results[i])));
    expected.insert(expected.end(), events.begin(), events.end());
  }
  REQUIRE(expected.size() == 90);
  check_same(read_everything(*j), expected);
  CHECK(value_of(j->stream_version("S", "s6")) == 12);
}

TEST_CASE("sqlite journal: a constraint failure rolls back only its request", "[journal][sqlite]") {
  sqlite_backend backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 1));
  // A trigger a person might add: it fails the second event of a request, so
  // the request's first event must be rolled back with it.
  raw_db{backend.path}.exec(
      "CREATE TRIGGER no_poison BEFORE INSERT ON events WHEN NEW.event_type = 'Poison'"
      " BEGIN SELECT RAISE(ABORT, 'poison refused'); END");
  auto poisoned = request("P", "p", 0, 2);
  poisoned.events[1].type = "Poison";
  auto results = j->append({request("A", "x", 1, 1), poisoned, request("B", "y", 0, 2), request("P", "p", 0, 1)});
  REQUIRE(results.size() == 4);
  CHECK(value_of(std::move(results[0])).first_position == 2);
  REQUIRE_FALSE(results[1]);
  check_error(results[1].error(), errc::storage, {"'P/p'", "poison refused", backend.path});
  const auto last = value_of(std::move(results[2]));
  CHECK((last.first_position == 3 && last.last_position == 4));
  // The stream P was rolled back with its request: a later request of the
  // same batch creates it afresh.
  CHECK(value_of(std::move(results[3])).first_position == 5);
  CHECK(positions_of(read_everything(*j)) == iota(1, 5));
  CHECK(versions_of(value_of(j->read_stream("P", "p", 1, 10))) == iota(1, 1));
  CHECK(append_ok(*j, request("P", "p", 1, 1)).first_position == 6);
}

TEST_CASE("sqlite journal: a storage failure fails the whole batch and changes nothing", "[journal][sqlite]") {
  sqlite_backend backend;
  auto j = value_of(open_sqlite_journal({backend.path, sync_mode::full, 50}));
  append_ok(*j, request("A", "x", 0, 1));
  raw_db other{backend.path};
  other.exec("BEGIN IMMEDIATE");  // holds the write lock longer than j waits
  auto results = j->append({request("A", "x", 1, 1), request("B", "y", 5, 1), request("", "z", 0, 1)});
  REQUIRE(results.size() == 3);
  REQUIRE_FALSE(results[0]);
  check_error(results[0].error(), errc::storage, {"'A/x'", backend.path, "database is locked"});
  REQUIRE_FALSE(results[1]);
  check_error(results[1].error(), errc::storage, {"'B/y'"});
  REQUIRE_FALSE(results[2]);
  check_error(results[2].error(), errc::invalid_argument, {"aggregate_type"});
  other.exec("ROLLBACK");
  CHECK(value_of(j->last_position()) == 1);
  const auto res = append_ok(*j, request("A", "x", 1, 1));
  CHECK((res.first_position == 2 && res.last_version == 2));
}

TEST_CASE("sqlite journal: a constraint failure in a large batch rolls back only its request", "[journal][sqlite]") {
  sqlite_backend backend;
  auto j = open_journal(backend.factory);
  raw_db{backend.path}.exec(
      "CREATE TRIGGER no_poison BEFORE INSERT ON events WHEN NEW.event_type = 'Poison'"
      " BEGIN SELECT RAISE(ABORT, 'poison refused'); END");
  std::vector<append_request> batch;
  for (std::size_t i = 0; i < 40; ++i) batch.push_back(request("S", "s" + std::to_string(i), 0, 1));
  batch[21].events[0].type = "Poison";  // in the middle of the second 16-row insert
  auto results = j->append(batch);
  REQUIRE(results.size() == 40);
  REQUIRE_FALSE(results[21]);
  check_error(results[21].error(), errc::storage, {"'S/s21'", "poison refused"});
  for (std::size_t i = 0; i < 40; ++i)
    if (i != 21) CHECK(value_of(std::move(results[i])).first_position == (i < 21 ? i + 1 : i));
  CHECK(positions_of(read_everything(*j)) == iota(1, 39));
  CHECK(value_of(j->stream_version("S", "s21")) == 0);
  CHECK(value_of(j->stream_version("S", "s22")) == 1);
}

TEST_CASE("sqlite journal: a non-constraint error while writing fails the whole batch", "[journal][sqlite]") {
  sqlite_backend backend;
  auto j = open_journal(backend.factory);
  append_ok(*j, request("A", "x", 0, 1));
  // json() of malformed text is a plain SQLITE_ERROR at run time, not a
  // constraint failure: the batch cannot go on, earlier requests included.
  raw_db{backend.path}.exec(
      "CREATE TRIGGER broken BEFORE INSERT ON events WHEN NEW.event_type = 'Broken'"
      " BEGIN SELECT json('not json'); END");
  auto broken = request("B", "y", 0, 2);
  broken.events[1].type = "Broken";
  auto results = j->append({request("A", "x", 1, 1), broken, request("C", "z", 0, 1)});
  REQUIRE(results.size() == 3);
  for (std::size_t i = 0; i < results.size(); ++i) {
    REQUIRE_FALSE(results[i]);
    check_error(results[i].error(), errc::storage, {"'B/y'", "malformed JSON", backend.path});
  }
  CHECK(value_of(j->last_position()) == 1);
  CHECK(value_of(j->stream_version("A", "x")) == 1);
  CHECK(value_of(j->stream_version("B", "y")) == 0);
  raw_db{backend.path}.exec("DROP TRIGGER broken");
  CHECK(append_ok(*j, request("A", "x", 1, 1)).first_position == 2);
}

// -- streams: folded into stream_runs, the newest spans by events_by_span ------

TEST_CASE("sqlite journal: streams that cross many spans read back whole, from any version, in any count",
          "[journal][sqlite]") {
  sqlite_backend backend;
  auto j = open_journal(backend.factory);
  // Three streams, interleaved in batches of varied request sizes, over
  // ~12,700 positions: every stream has events in every span, and requests
  // straddle span boundaries.
  std::map<std::string, std::uint64_t> versions{{"a", 0}, {"b", 0}, {"c", 0}};
  for (std::size_t round = 0; round < 1700; ++round) {
    std::vector<append_request> batch;
    for (auto& [id, v] : versions) {
      const std::size_t n = 1 + (round + id[0]) % 4;
      batch.push_back(request("S", id, v, n));
      v += n;
    }
    for (auto& r : j->append(batch)) REQUIRE(r);
  }
  const auto all = read_everything(*j);
  REQUIRE(all.size() > 3 * 4096);
  for (const auto& [id, last] : versions) {
    std::vector<stored_event> expected;
    for (const auto& e : all)
      if (e.aggregate_id == id) expected.push_back(e);
    REQUIRE(expected.size() == last);
    check_same(value_of(j->read_stream("S", id, 1, 1'000'000)), expected);
    // From a version in the middle, across span boundaries, a limited count.
    const auto from = last / 2, count = static_cast<std::size_t>(last / 3);  // covers > 1 span
    const auto part = value_of(j->read_stream("S", id, from, count));
    check_same(part, std::vector<stored_event>(expected.begin() + static_cast<std::ptrdiff_t>(from - 1),
                                               expected.begin() + static_cast<std::ptrdiff_t>(from - 1 + count)));
    // In chunks, as recovery reads (each chunk starts where the last ended).
    std::vector<stored_event> chunked;
    while (chunked.size() < last) {
      auto chunk = value_of(j->read_stream("S", id, chunked.size() + 1, 1000));
      REQUIRE_FALSE(chunk.empty());
      chunked.insert(chunked.end(), chunk.begin(), chunk.end());
    }
    check_same(chunked, expected);
    CHECK(value_of(j->read_stream("S", id, 1, 5)).size() == 5);  // backwards after the hints moved on
    CHECK(value_of(j->read_stream("S", id, last, 10)).size() == 1);
    CHECK(value_of(j->read_stream("S", id, last + 1, 10)).empty());
    // A visitor that stops is not called again, even at a span boundary.
    std::size_t seen = 0;
    CHECK(value_of(j->scan_stream("S", id, 1, 1'000'000, [&](const event_view&) { return ++seen < 2000; })) ==
          2000);
    CHECK(seen == 2000);
    // Without the ids (how recovery reads): the same events, the ids left empty.
    std::vector<stored_event> lean;
    value_of(j->scan_stream(
        "S", id, 1, 1'000'000, [&](const event_view& v) { return lean.push_back(to_stored(v)), true; },
        scan_fields::without_ids));
    auto without_ids = expected;
    for (auto& e : without_ids) e.command_id = e.correlation_id = e.causation_id = "";
    check_same(lean, without_ids);
  }
  // No UNIQUE index on versions: the writer's version check is what keeps
  // them unique, and it still refuses a stale expected version.
  check_error(append_error(*j, request("S", "a", 1, 1)), errc::conflict, {"'S/a'", "expected version 1"});
  raw_db db{backend.path};
  CHECK(db.rows("SELECT count(*) FROM (SELECT stream_key, version FROM events GROUP BY 1, 2 HAVING count(*) > 1)") ==
        std::vector<std::string>{"0"});
  CHECK(db.rows("SELECT value FROM journal_meta WHERE key = 'format_version'") == std::vector<std::string>{"7"});
}

TEST_CASE("sqlite journal: stream reads and roll-forwards seek the span index, they do not scan the events",
          "[journal][sqlite]") {
  // The same statement shape as the journal's read (the expression must match
  // the index's, or SQLite falls back to scanning every event).
  CHECK_THAT(plan_on_new_journal("SELECT * FROM events e WHERE (e.global_position >> 12) = 1 AND e.stream_key = 1"
                                 " AND e.version >= 1 ORDER BY e.version LIMIT 10"),
             Contains("SEARCH e USING INDEX events_by_span"));
  // The roll-forward to a stream's newest event in a span (one seek).
  CHECK_THAT(plan_on_new_journal("SELECT version, global_position FROM events WHERE (global_position >> 12) = 1"
                                 " AND stream_key = 2 ORDER BY version DESC LIMIT 1"),
             Contains("SEARCH events USING COVERING INDEX events_by_span (<expr>=? AND stream_key=?)"));
}

TEST_CASE("sqlite journal: the folded part of a stream is read through stream_runs, one seek, then its events by "
          "position",
          "[journal][sqlite]") {
  sqlite_backend backend;
  { open_journal(backend.factory); }
  testing_support::raw_db db{backend.path};
  const auto runs = db.rows(
      "EXPLAIN QUERY PLAN SELECT first_version, span, offsets FROM stream_runs WHERE stream_key = 1"
      " AND first_version >= coalesce((SELECT max(first_version) FROM stream_runs WHERE stream_key = 1"
      " AND first_version <= 7), 0) ORDER BY first_version");
  REQUIRE(runs.size() == 3);  // the runs from the one holding the version (a subquery, one seek)
  CHECK_THAT(runs[0], Contains("SEARCH stream_runs USING PRIMARY KEY (stream_key=? AND first_version>?)"));
  CHECK_THAT(runs[1], Contains("SCALAR SUBQUERY"));
  CHECK_THAT(runs[2], Contains("SEARCH stream_runs USING PRIMARY KEY (stream_key=? AND first_version<?)"));
  const auto events = db.rows(
      "EXPLAIN QUERY PLAN SELECT e.payload FROM events e WHERE e.global_position IN (7, 9, 4100, NULL)"
      " ORDER BY e.global_position");
  REQUIRE(events.size() == 1);  // no sort: the list is sorted, then each position is one seek
  CHECK_THAT(events[0], Contains("SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"));
}

namespace {

// An old file is refused at open with the command that upgrades it; the
// upgrade then reports what it copied and where the original went.
upgrade_report refused_then_upgraded(const std::string& path, int format, std::uint64_t events,
                                     std::uint64_t streams) {
  const auto name = "format " + std::to_string(format);
  check_error(open_error({path}), errc::storage, {"'" + path + "'", name, "interlock-journal upgrade " + path});
  auto report = value_of(upgrade_sqlite_journal(path));
  CHECK(report.from_format == format);
  CHECK(report.events == events);
  CHECK(report.streams == streams);
  CHECK(report.backup_path == path + ".format-" + std::to_string(format) + ".bak");
  return report;
}

}  // namespace

TEST_CASE("sqlite journal: a format-5 file (a row per event in stream_index) is refused, then upgraded into runs",
          "[journal][sqlite][upgrade]") {
  sqlite_backend backend;
  testing_support::create_format_5_journal(backend.path);
  // Streams x and y interleaved, 30 events; the first 20 folded as format 5 did.
  raw_db{backend.path}.exec(
      "INSERT INTO streams VALUES (1, 'A', 'x', 1), (2, 'A', 'y', 2);"
      "INSERT INTO type_keys VALUES (1, 'A', 'Happened');"
      "WITH RECURSIVE n(p) AS (SELECT 1 UNION ALL SELECT p + 1 FROM n WHERE p < 30)"
      " INSERT INTO events SELECT p, 2 - p % 2, (p + 1) / 2, 'Happened', 1, '{\"p\":' || p || '}',"
      " 1609556645000000 + p, 'cmd-' || p, NULL, NULL, 1 FROM n;"
      "INSERT INTO stream_index SELECT stream_key, version, global_position FROM events WHERE global_position <= 20;"
      "INSERT INTO log_index SELECT type_key, global_position FROM events WHERE global_position <= 20;"
      "UPDATE journal_meta SET value = 20 WHERE key = 'folded_position';"
      "INSERT INTO commands VALUES ('cmd-29', 1, 29, 29, 15, '{}');");
  const std::string same_columns =
      "SELECT global_position, stream_key, version, event_type, schema_version, payload, recorded_at, command_id,"
      " coalesce(correlation_id, command_id), causation_id FROM events ORDER BY global_position";
  const auto before = raw_db{backend.path}.rows(same_columns);
  refused_then_upgraded(backend.path, 5, 30, 2);
  auto j = open_journal(backend.factory);
  const auto x = value_of(j->read_stream("A", "x", 1, 100));
  CHECK(versions_of(x) == iota(1, 15));
  REQUIRE(x.size() == 15);
  CHECK(x[14].position == 29);
  CHECK(x[14].payload == R"({"p":29})");
  CHECK(x[14].command_id == "cmd-29");
  CHECK(positions_of(value_of(j->read_stream("A", "y", 8, 100))) ==
        std::vector<std::uint64_t>{16, 18, 20, 22, 24, 26, 28, 30});
  const auto command = value_of(j->find_command("cmd-29"));
  REQUIRE(command);
  CHECK((command->aggregate_type == "A" && command->aggregate_id == "x" && command->last_version == 15));
  CHECK((command->first_position == 29 && command->last_position == 29 && command->command_type.empty()));
  raw_db db{backend.path};
  CHECK(db.rows(same_columns) == before);
  // Every event folded at open, two runs (one per stream) in the one span.
  CHECK(db.rows("SELECT stream_key, first_version, span, length(offsets) FROM stream_runs ORDER BY stream_key") ==
        std::vector<std::string>{"1|1|0|30", "2|1|0|30"});
  CHECK(db.rows("SELECT value FROM journal_meta WHERE key = 'folded_position'") == std::vector<std::string>{"30"});
  CHECK(append_ok(*j, request("A", "y", 15, 1)).first_position == 31);
  check_error(append_error(*j, request("A", "x", 14, 1)), errc::conflict, {"'A/x'", "at version 15"});
}

TEST_CASE("sqlite journal: a format-6 file is refused, then upgraded, its commands name their streams",
          "[journal][sqlite][upgrade][command]") {
  sqlite_backend backend;
  testing_support::create_format_6_journal(backend.path);
  // A/x (3 events) and B/y (1), nothing folded; two commands recorded, as
  // format 6 did, by stream key.
  raw_db{backend.path}.exec(
      "INSERT INTO streams VALUES (1, 'A', 'x', 1), (2, 'B', 'y', 3);"
      "INSERT INTO type_keys VALUES (1, 'A', 'Happened'), (2, 'B', 'Happened');"
      "INSERT INTO events VALUES (1, 1, 1, 'Happened', 1, '{\"v\":1}', 10, 'cmd-a', NULL, NULL, 1),"
      " (2, 1, 2, 'Happened', 1, '{\"v\":2}', 10, 'cmd-a', NULL, NULL, 1),"
      " (3, 2, 1, 'Happened', 1, '{\"v\":1}', 11, 'cmd-b', NULL, NULL, 2),"
      " (4, 1, 3, 'Happened', 1, '{\"v\":3}', 12, NULL, NULL, NULL, 1);"
      "INSERT INTO commands VALUES ('cmd-a', 1, 1, 2, 2, '{\"n\":1}'), ('cmd-b', 2, 3, 3, 1, '\"ok\"');");
  refused_then_upgraded(backend.path, 6, 4, 2);
  auto j = open_journal(backend.factory);
  const auto a = value_of(j->find_command("cmd-a"));
  REQUIRE(a);
  CHECK((a->aggregate_type == "A" && a->aggregate_id == "x"));
  CHECK((a->first_position == 1 && a->last_position == 2 && a->last_version == 2));
  CHECK(a->result_json == R"({"n":1})");
  CHECK(a->command_type.empty());  // format 6 did not keep it
  CHECK_FALSE(a->refusal);
  const auto b = value_of(j->find_command("cmd-b"));
  REQUIRE(b);
  CHECK((b->aggregate_type == "B" && b->aggregate_id == "y" && b->first_position == 3 && b->last_version == 1));
  CHECK(b->result_json == R"("ok")");
  raw_db db{backend.path};
  CHECK(db.rows("SELECT command_id, quote(command_type), aggregate_type, aggregate_id, quote(error_code),"
                " quote(error_message) FROM commands ORDER BY command_id") ==
        std::vector<std::string>{"cmd-a|''|A|x|NULL|NULL", "cmd-b|''|B|y|NULL|NULL"});
  CHECK(db.rows("SELECT value FROM journal_meta WHERE key = 'format_version'") == std::vector<std::string>{"7"});
  CHECK(versions_of(value_of(j->read_stream("A", "x", 1, 10))) == iota(1, 3));
  // The upgraded file goes on: a command id taken before is refused, a new one recorded.
  auto again = recorded(request("A", "x", 3, 1), "Add", "1");
  again.command_id = "cmd-a";
  check_error(append_error(*j, again), errc::conflict, {"command cmd-a", "committed before"});
  CHECK(append_ok(*j, recorded(request("A", "x", 3, 1), "Add", "1")).first_position == 5);
  CHECK(value_of(j->find_command("cmd-x-3"))->command_type == "Add");
}

TEST_CASE("sqlite journal: an upgrade that would lose a command (its stream missing) is refused, the original kept",
          "[journal][sqlite][upgrade][command]") {
  sqlite_backend backend;
  testing_support::create_format_6_journal(backend.path);
  raw_db{backend.path}.exec(
      "INSERT INTO streams VALUES (1, 'A', 'x', 1); INSERT INTO type_keys VALUES (1, 'A', 'Happened');"
      "INSERT INTO events VALUES (1, 1, 1, 'Happened', 1, '{}', 10, 'cmd-a', NULL, NULL, 1);"
      "INSERT INTO commands VALUES ('cmd-a', 1, 1, 1, 1, '{}'), ('cmd-lost', 9, 1, 1, 1, '{}');");
  auto upgraded = upgrade_sqlite_journal(backend.path);
  REQUIRE_FALSE(upgraded);
  check_error(upgraded.error(), errc::storage, {"'" + backend.path + "'", "the copy's commands differ", "2 commands"});
  CHECK_FALSE(fs::exists(backend.path + ".upgrading"));
  CHECK_FALSE(fs::exists(backend.path + ".format-6.bak"));
  raw_db db{backend.path};
  CHECK(db.rows("SELECT value FROM journal_meta WHERE key = 'format_version'") == std::vector<std::string>{"6"});
  CHECK(db.rows("SELECT count(*) FROM commands") == std::vector<std::string>{"2"});
}

TEST_CASE("sqlite journal: a format-1 file is refused with the command that upgrades it, then upgraded",
          "[journal][sqlite][upgrade]") {
  sqlite_backend backend;
  testing_support::create_old_journal(backend.path, 1);
  raw_db{backend.path}.exec(
      "INSERT INTO streams VALUES (1, 'A', 'x', 2);"
      "INSERT INTO events VALUES (1, 1, 1, 'Happened', 1, '{\"v\":1}', 1609556645000042, NULL, NULL, NULL);"
      "INSERT INTO events VALUES (2, 1, 2, 'Happened', 1, '{\"v\":2}', 1609556645000043, NULL, NULL, NULL);");
  const auto report = refused_then_upgraded(backend.path, 1, 2, 1);
  CHECK(raw_db{report.backup_path}.rows("SELECT count(*) FROM events") == std::vector<std::string>{"2"});
  auto j = open_journal(backend.factory);
  const auto events = value_of(j->read_stream("A", "x", 1, 10));
  CHECK(versions_of(events) == iota(1, 2));
  REQUIRE(events.size() == 2);
  CHECK(events[1].recorded_at_us == 1609556645000043);
  CHECK(events[1].payload == R"({"v":2})");
  CHECK(append_ok(*j, request("A", "x", 2, 2)).last_position == 4);
  CHECK(append_ok(*j, request("B", "y", 0, 1)).first_position == 5);
  check_error(append_error(*j, request("A", "x", 2, 1)), errc::conflict, {"'A/x'", "at version 4"});
  CHECK(versions_of(value_of(j->read_stream("A", "x", 2, 10))) == iota(2, 4));
  raw_db db{backend.path};
  CHECK(db.rows("SELECT value FROM journal_meta WHERE key = 'format_version'") == std::vector<std::string>{"7"});
  // A second upgrade has nothing to do.
  CHECK(value_of(upgrade_sqlite_journal(backend.path)).backup_path.empty());
}
