// Format 3: a stream's row (version, last position) is written lazily, exact
// as of journal_meta.heads_position; every read adds the events after it.
#include <catch2/catch.hpp>

#include "journal_test_support.hpp"
#include "raw_db.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace interlock;
using namespace journal_testing;
using testing_support::raw_db;

namespace {

// How far the rows may lag (sqlite_journal.cpp: heads_flush_positions).
constexpr std::uint64_t flush_distance = 4 * 4096;

std::uint64_t number(raw_db& db, const std::string& sql) {
  const auto rows = db.rows(sql);
  REQUIRE(rows.size() == 1);
  return std::stoull(rows[0]);
}

std::uint64_t heads_position(raw_db& db) {
  return number(db, "SELECT value FROM journal_meta WHERE key = 'heads_position'");
}

// What the stream rows should say as of position `mark`: per stream, its
// newest version and position up to the mark, from the events themselves; a
// stream created after the mark, as of its creation (requests of one event).
std::vector<std::string> heads_as_of(raw_db& db, std::uint64_t mark) {
  return db.rows("SELECT s.aggregate_id, max(e.version), max(e.global_position) FROM streams s"
                 " JOIN events e ON e.stream_key = s.stream_key WHERE e.global_position <= max(" +
                 std::to_string(mark) + ", s.first_position) GROUP BY s.stream_key ORDER BY s.aggregate_id");
}

std::vector<std::string> rows_of_streams(raw_db& db) {
  return db.rows("SELECT aggregate_id, version, last_position FROM streams ORDER BY aggregate_id");
}

// Appends one event to each of `ids`, `rounds` times, tracking versions.
void append_rounds(journal& j, std::map<std::string, std::uint64_t>& versions, const std::vector<std::string>& ids,
                   std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    std::vector<append_request> batch;
    for (const auto& id : ids) batch.push_back(request("S", id, versions[id]++, 1));
    for (auto& res : j.append(batch)) REQUIRE(res);
  }
}

}  // namespace

TEST_CASE("stream heads: new files have lazy heads (format 3 and after) with the mark at 0",
          "[journal][sqlite][heads]") {
  sqlite_backend backend;
  { open_journal(backend.factory); }
  raw_db db{backend.path};
  CHECK(number(db, "SELECT value FROM journal_meta WHERE key = 'format_version'") == 4);
  CHECK(heads_position(db) == 0);
}

TEST_CASE("stream heads: rows lag by less than the flush distance and reads stay exact",
          "[journal][sqlite][heads]") {
  sqlite_backend backend;
  auto j = open_journal(backend.factory);
  std::map<std::string, std::uint64_t> versions;
  append_rounds(*j, versions, {"dormant"}, 3);  // written once, early: its row is exact from the start
  const std::vector<std::string> busy{"a", "b", "c", "d"};
  raw_db db{backend.path};
  std::uint64_t marks_seen = 0;
  for (int step = 0; step < 12; ++step) {
    append_rounds(*j, versions, busy, 1000);  // 4,000 positions a step: the mark moves every ~4 steps
    const auto last = value_of(j->last_position());
    const auto mark = heads_position(db);
    INFO("step " << step << ", last " << last << ", mark " << mark);
    CHECK(mark <= last);
    CHECK(last - mark < flush_distance + 4000);
    if (mark > 0) ++marks_seen;
    // The rows say exactly what the events up to the mark say.
    CHECK(rows_of_streams(db) == heads_as_of(db, mark));
    // A second connection (as another process would) reads exact heads...
    auto other = open_journal(backend.factory);
    for (const auto& [id, v] : versions) {
      CHECK(value_of(other->stream_version("S", id)) == v);
      CHECK(versions_of(value_of(other->read_stream("S", id, v, 10))) == std::vector<std::uint64_t>{v});
    }
    // ...and so does the view, for people using the sqlite3 shell.
    CHECK(db.rows("SELECT aggregate_id, version, last_position FROM stream_heads ORDER BY aggregate_id") ==
          heads_as_of(db, last));
  }
  CHECK(marks_seen > 0);
}

TEST_CASE("stream heads: another connection's version checks see events after the mark",
          "[journal][sqlite][heads]") {
  sqlite_backend backend;
  auto first = open_journal(backend.factory);
  std::map<std::string, std::uint64_t> versions;
  append_rounds(*first, versions, {"x", "y"}, 50);  // far below the flush distance
  {
    raw_db db{backend.path};
    REQUIRE(heads_position(db) == 0);
    REQUIRE(rows_of_streams(db) == std::vector<std::string>{"x|1|1", "y|1|2"});  // as written on creation
  }
  auto second = open_journal(backend.factory);
  check_error(append_error(*second, request("S", "x", 1, 1)), errc::conflict, {"'S/x'", "at version 50"});
  CHECK(append_ok(*second, request("S", "x", 50, 2)).last_version == 52);
  // The first connection's cache is stale now: it must see the second's events.
  check_error(append_error(*first, request("S", "x", 50, 1)), errc::conflict, {"'S/x'", "at version 52"});
  CHECK(append_ok(*first, request("S", "x", 52, 1)).last_version == 53);
  CHECK(append_ok(*first, request("S", "y", 50, 1)).last_version == 51);
}

TEST_CASE("stream heads: a flush writes the rows of every stream appended since the mark, by any connection",
          "[journal][sqlite][heads]") {
  sqlite_backend backend;
  auto first = open_journal(backend.factory);
  std::map<std::string, std::uint64_t> versions;
  append_rounds(*first, versions, {"a", "b"}, flush_distance / 2 + 10);  // crosses the mark once: a flush
  raw_db db{backend.path};
  REQUIRE(heads_position(db) > 0);
  // Until the next mark, the first connection knows every stream appended:
  // its own. Then a second one appends too, to a stream of its own.
  auto second = open_journal(backend.factory);
  append_rounds(*first, versions, {"a"}, 100);
  append_rounds(*second, versions, {"c"}, 100);
  const auto mark = heads_position(db);
  append_rounds(*first, versions, {"b"}, flush_distance);  // the next flush, by the first connection
  REQUIRE(heads_position(db) > mark);
  CHECK(rows_of_streams(db) == heads_as_of(db, heads_position(db)));
  const auto rows = rows_of_streams(db);
  CHECK(std::count_if(rows.begin(), rows.end(), [](const std::string& r) { return r.rfind("c|100|", 0) == 0; }) == 1);
}

TEST_CASE("stream heads: a clean close writes exact rows; a reopened file reads exact heads either way",
          "[journal][sqlite][heads]") {
  sqlite_backend backend;
  std::map<std::string, std::uint64_t> versions;
  {
    auto j = open_journal(backend.factory);
    append_rounds(*j, versions, {"p", "q", "r"}, 2000);  // 6,000 positions: no flush while open
    raw_db db{backend.path};
    REQUIRE(heads_position(db) == 0);
  }
  raw_db db{backend.path};
  CHECK(heads_position(db) == 6000);
  CHECK(rows_of_streams(db) == std::vector<std::string>{"p|2000|5998", "q|2000|5999", "r|2000|6000"});
  // A file whose rows lag (as after kill -9) reads the same: put the mark back.
  db.exec("UPDATE streams SET version = 1, last_position = stream_key;"
          "UPDATE journal_meta SET value = 0 WHERE key = 'heads_position'");
  auto j = open_journal(backend.factory);
  for (const auto& [id, v] : versions) CHECK(value_of(j->stream_version("S", id)) == v);
  CHECK(append_ok(*j, request("S", "q", 2000, 1)).first_position == 6001);
  check_error(append_error(*j, request("S", "r", 1, 1)), errc::conflict, {"'S/r'", "at version 2000"});
}

TEST_CASE("stream heads: a clean close after another connection appended writes that one's rows too",
          "[journal][sqlite][heads]") {
  sqlite_backend backend;
  std::map<std::string, std::uint64_t> versions;
  auto second = open_journal(backend.factory);
  {
    auto first = open_journal(backend.factory);
    append_rounds(*first, versions, {"a"}, flush_distance + 10);  // a flush: its list of streams is complete
    append_rounds(*first, versions, {"a"}, 10);
    append_rounds(*second, versions, {"b"}, 10);  // behind the first one's back
  }  // the first closes
  raw_db db{backend.path};
  CHECK(heads_position(db) == value_of(second->last_position()));
  CHECK(rows_of_streams(db) == heads_as_of(db, heads_position(db)));
}

TEST_CASE("stream heads: a format-2 file keeps writing its rows on every append", "[journal][sqlite][heads]") {
  sqlite_backend backend;
  {
    open_journal(backend.factory);
    raw_db db{backend.path};
    db.exec("UPDATE journal_meta SET value = 2 WHERE key = 'format_version';"
            "DELETE FROM journal_meta WHERE key = 'heads_position'; DROP VIEW stream_heads");
  }
  auto j = open_journal(backend.factory);
  std::map<std::string, std::uint64_t> versions;
  append_rounds(*j, versions, {"m", "n"}, 30);
  raw_db db{backend.path};
  CHECK(rows_of_streams(db) == std::vector<std::string>{"m|30|59", "n|30|60"});
  CHECK(value_of(j->stream_version("S", "n")) == 30);
  CHECK(number(db, "SELECT value FROM journal_meta WHERE key = 'format_version'") == 2);
}
