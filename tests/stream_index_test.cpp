// The stream index (stream_runs) and the fold: every event up to
// journal_meta.folded_position is indexed by (stream, version), a row per run
// of a stream within a span; reads take the folded part from it and the rest
// from the spans after the mark. And what an open checks: the mark and the
// index are a cache of the events (repaired), duplicates and gaps in the
// events are damage (refused, named).
#include <catch2/catch.hpp>

#include "journal_test_support.hpp"
#include "raw_db.hpp"

#include <interlock/core/log.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

using namespace interlock;
using namespace journal_testing;
using testing_support::raw_db;

namespace {

constexpr std::uint64_t span = 4096;

// Tests that fill many spans commit thousands of small batches: without fsync.
struct fast_backend {
  temp_dir dir;
  std::string path = (dir.path / "journal.db").string();
  journal_factory factory = sqlite_journal_factory(sqlite_options{path, sync_mode::off});
};

std::uint64_t number(raw_db& db, const std::string& sql) {
  const auto rows = db.rows(sql);
  REQUIRE(rows.size() == 1);
  return std::stoull(rows[0]);
}

std::uint64_t folded_mark(const std::string& path) {
  raw_db db{path};
  return number(db, "SELECT value FROM journal_meta WHERE key = 'folded_position'");
}

// Appends one event to each of `ids`, `rounds` times, in batches of all ids.
void append_rounds(journal& j, std::map<std::string, std::uint64_t>& versions, const std::vector<std::string>& ids,
                   std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    std::vector<append_request> batch;
    for (const auto& id : ids) batch.push_back(request("S", id, versions[id]++, 1));
    for (auto& res : j.append(batch)) REQUIRE(res);
  }
}

// Every stream reads back as the log holds it, whole and from the middle, and
// its version is right: through `j` and through a fresh connection.
void check_streams(journal& j, const std::map<std::string, std::uint64_t>& versions) {
  const auto all = read_everything(j);
  for (const auto& [id, last] : versions) {
    std::vector<stored_event> expected;
    for (const auto& e : all)
      if (e.aggregate_id == id) expected.push_back(e);
    REQUIRE(expected.size() == last);
    check_same(value_of(j.read_stream("S", id, 1, 1'000'000)), expected);
    const auto from = last / 2 + 1;
    check_same(value_of(j.read_stream("S", id, from, 1'000'000)),
               std::vector<stored_event>(expected.begin() + static_cast<std::ptrdiff_t>(from - 1), expected.end()));
    CHECK(value_of(j.stream_version("S", id)) == last);
  }
}

// Log lines at warning and above, for the tests that expect a repair.
struct captured_log {
  std::mutex mutex;
  std::vector<std::string> lines;
  captured_log() {
    set_log_sink([this](log_level, std::string_view line) {
      std::lock_guard<std::mutex> lock{mutex};
      lines.emplace_back(line);
    });
  }
  ~captured_log() { set_log_sink(nullptr); }
  bool has(const std::string& words) {
    std::lock_guard<std::mutex> lock{mutex};
    for (const auto& l : lines)
      if (l.find(words) != std::string::npos) return true;
    return false;
  }
};

}  // namespace

TEST_CASE("stream index: an open folds every event, and appends stay after the mark until spans pile up",
          "[journal][sqlite][fold]") {
  sqlite_backend backend;
  std::map<std::string, std::uint64_t> versions;
  {
    auto j = open_journal(backend.factory);
    append_rounds(*j, versions, {"a", "b", "c"}, 100);
    CHECK(folded_mark(backend.path) == 0);  // 300 events: one span open
    check_streams(*j, versions);
  }
  auto j = open_journal(backend.factory);
  CHECK(folded_mark(backend.path) == 300);
  raw_db db{backend.path};
  CHECK(number(db, "SELECT sum(length(offsets) / 2) FROM stream_runs") == 300);
  append_rounds(*j, versions, {"a", "b"}, 10);
  CHECK(folded_mark(backend.path) == 300);
  check_streams(*j, versions);
  CHECK(append_error(*j, request("S", "a", 3, 1)) != caf::error{});  // a stale version still conflicts
}

TEST_CASE("stream index: a writer that is never idle folds past 32 open spans, leaving the newest 2 open",
          "[journal][sqlite][fold]") {
  fast_backend backend;
  std::map<std::string, std::uint64_t> versions;
  auto j = open_journal(backend.factory);
  append_rounds(*j, versions, {"a", "b", "c", "d"}, 32 * span / 4 - 1);  // up to 131,068: spans 0..31
  CHECK(folded_mark(backend.path) == 0);
  append_rounds(*j, versions, {"a", "b", "c", "d"}, 1);  // 131,072: a 33rd span opens
  CHECK(folded_mark(backend.path) == 31 * span - 1);
  raw_db db{backend.path};
  CHECK(number(db, "SELECT sum(length(offsets) / 2) FROM stream_runs") == 31 * span - 1);
  // A row per stream and span (4 streams, spans 0 to 30), and per pair of types and span.
  CHECK(number(db, "SELECT count(*) FROM stream_runs") == 4 * 31);
  CHECK(number(db, "SELECT count(*) FROM log_runs") == 31);
  check_streams(*j, versions);
  // Another connection reads the same, and a reopened file too.
  auto other = open_journal(backend.factory);
  check_streams(*other, versions);
}

TEST_CASE("stream index: maintain() folds once 16 spans are open, leaving the newest 2", "[journal][sqlite][fold]") {
  fast_backend backend;
  std::map<std::string, std::uint64_t> versions;
  auto j = open_journal(backend.factory);
  append_rounds(*j, versions, {"a", "b"}, 8 * span - 1);  // up to 65,534: spans 0..15
  CHECK(value_of(j->maintain()) == false);
  CHECK(folded_mark(backend.path) == 0);
  append_rounds(*j, versions, {"a", "b"}, 1);  // 65,536: a 17th span
  CHECK(value_of(j->maintain()) == false);
  CHECK(folded_mark(backend.path) == 15 * span - 1);
  check_streams(*j, versions);
}

TEST_CASE("stream index: a folded mark ahead of the events is repaired at open, with a log line",
          "[journal][sqlite][fold][open-check]") {
  captured_log log;
  sqlite_backend backend;
  std::map<std::string, std::uint64_t> versions;
  { append_rounds(*open_journal(backend.factory), versions, {"a", "b"}, 20); }
  raw_db{backend.path}.exec("UPDATE journal_meta SET value = 999 WHERE key = 'folded_position'");
  auto j = open_journal(backend.factory);
  CHECK(log.has("the folded mark (999) is ahead of the last event (40)"));
  CHECK(folded_mark(backend.path) == 40);
  CHECK(value_of(settings_of(*j)).synchronous == 2);  // the fold's commit went without fsync, appends do not
  check_streams(*j, versions);
  CHECK(append_ok(*j, request("S", "a", 20, 1)).last_version == 21);
}

TEST_CASE("stream index: an index that lost the event at its mark is rebuilt at open",
          "[journal][sqlite][fold][open-check]") {
  captured_log log;
  sqlite_backend backend;
  std::map<std::string, std::uint64_t> versions;
  { append_rounds(*open_journal(backend.factory), versions, {"a", "b"}, 20); }
  { open_journal(backend.factory); }  // folds all 40
  raw_db{backend.path}.exec("DELETE FROM stream_runs WHERE stream_key = (SELECT stream_key FROM events WHERE global_position = 40)");
  auto j = open_journal(backend.factory);
  CHECK(log.has("the event at the folded mark (40) is not in the stream index"));
  raw_db db{backend.path};
  CHECK(number(db, "SELECT sum(length(offsets) / 2) FROM stream_runs") == 40);
  check_streams(*j, versions);
}

TEST_CASE("stream index: an index entry ahead of a stream's events is caught: reads go by the events, the writer "
          "rebuilds the stream's entries",
          "[journal][sqlite][fold][open-check]") {
  captured_log log;
  sqlite_backend backend;
  std::map<std::string, std::uint64_t> versions;
  { append_rounds(*open_journal(backend.factory), versions, {"a", "b"}, 20); }
  { open_journal(backend.factory); }
  // Stream a's index claims a version 21, at position 2: one of b's events.
  raw_db{backend.path}.exec(
      "INSERT INTO stream_runs SELECT s.stream_key, 21, 0, x'0200' FROM streams s WHERE s.aggregate_id = 'a'");
  {
    auto reader = open_journal(backend.factory);
    CHECK(value_of(reader->stream_version("S", "a")) == 20);
    CHECK(versions_of(value_of(reader->read_stream("S", "a", 1, 100))) == iota(1, 20));
  }
  auto j = open_journal(backend.factory);
  CHECK(append_ok(*j, request("S", "a", 20, 1)).last_version == 21);  // not a conflict with a phantom 21
  CHECK(log.has("the stream index of 'S/a' disagrees with its events"));
  versions["a"] = 21;
  check_streams(*j, versions);
}

TEST_CASE("stream index: a version stored twice in different spans is named at open, and that stream's reads fail",
          "[journal][sqlite][fold][open-check]") {
  captured_log log;
  sqlite_backend backend;
  std::map<std::string, std::uint64_t> versions;
  { append_rounds(*open_journal(backend.factory), versions, {"a", "b"}, span); }  // up to position 8192
  // Stream a's version 1 (position 1, span 0) again at position 8193 (span 2).
  raw_db{backend.path}.exec(
      "INSERT INTO events SELECT 8193, stream_key, 1, event_type, schema_version, payload, recorded_at,"
      " NULL, NULL, NULL, type_key FROM events WHERE global_position = 1");
  auto j = open_journal(backend.factory);
  const std::vector<std::string> words{"'" + backend.path + "'", "stream 'S/a'", "version 1 twice",
                                       "positions 1 and 8193"};
  CHECK(log.has("stream 'S/a' has version 1 twice, at positions 1 and 8193"));
  CHECK(folded_mark(backend.path) == 0);  // the fold does not index around it
  auto read = j->read_stream("S", "a", 1, 100'000);
  REQUIRE_FALSE(read);
  check_error(read.error(), errc::corrupt_event, words);
  // The other stream is not held up.
  CHECK(versions_of(value_of(j->read_stream("S", "b", 1, 100'000))) == iota(1, span));
  CHECK(append_ok(*j, request("S", "b", span, 1)).last_version == span + 1);
}

TEST_CASE("stream index: a version gap after the mark is named at open", "[journal][sqlite][fold][open-check]") {
  captured_log log;
  sqlite_backend backend;
  std::map<std::string, std::uint64_t> versions;
  { append_rounds(*open_journal(backend.factory), versions, {"a", "b"}, 10); }
  raw_db{backend.path}.exec("UPDATE events SET version = 12 WHERE global_position = 19");  // a's version 10
  auto j = open_journal(backend.factory);
  CHECK(log.has("stream 'S/a' has version 12 at position 19 without version 11 before it"));
  // Indexed as it is: the readers' version checks stop at it.
  auto read = value_of(j->read_stream("S", "a", 1, 100));
  REQUIRE(read.size() == 10);
  CHECK(read.back().version == 12);
}

TEST_CASE("stream index: a fold under FULL sync works after the schema changed under the writer",
          "[journal][sqlite][fold]") {
  // SQLite re-prepares a statement after a schema change, and refuses a
  // synchronous level set inside a transaction then: the fold must set it outside.
  sqlite_backend backend;  // synchronous FULL
  auto j = open_journal(backend.factory);
  std::map<std::string, std::uint64_t> versions;
  for (int batch = 0; batch < 17; ++batch) {  // 17 batches of 4 x 1,024 events: 69,632 positions, 18 spans
    std::vector<append_request> requests;
    for (const auto* id : {"a", "b", "c", "d"}) {
      requests.push_back(request("S", id, versions[id], 1024));
      versions[id] += 1024;
    }
    for (auto& res : j->append(requests)) REQUIRE(res);
  }
  raw_db{backend.path}.exec("CREATE TABLE a_person_added (x)");
  CHECK(value_of(j->maintain()) == false);
  CHECK(folded_mark(backend.path) == 16 * span - 1);
  CHECK(value_of(settings_of(*j)).synchronous == 2);
  check_streams(*j, versions);
}

TEST_CASE("stream index: two connections folding in turn each check runs against what the other folded",
          "[journal][sqlite][fold]") {
  // Each connection remembers the newest run of the streams it folded; a fold
  // by the other must make it forget, or its next fold would see gaps.
  captured_log log;
  fast_backend backend;
  std::map<std::string, std::uint64_t> versions;
  auto first = open_journal(backend.factory);
  auto second = open_journal(backend.factory);
  const std::vector<std::string> ids{"a", "b", "c", "d"};
  std::uint64_t mark = 0;
  for (int turn = 0; turn < 4; ++turn) {
    auto& j = turn % 2 == 0 ? *first : *second;
    append_rounds(j, versions, ids, 17 * span / 4);  // 17 spans more: past the idle fold's 16
    CHECK(value_of(j.maintain()) == false);
    const auto now = folded_mark(backend.path);
    CHECK(now > mark);
    mark = now;
  }
  CHECK_FALSE(log.has("damaged"));
  check_streams(*first, versions);
  check_streams(*second, versions);
}

TEST_CASE("stream index: folded streams read back whole and in chunks of any size, from runs read as lists and as "
          "ranges",
          "[journal][sqlite][fold]") {
  fast_backend backend;
  std::map<std::string, std::uint64_t> versions;
  {
    auto j = open_journal(backend.factory);
    for (int round = 0; round < 40; ++round) {
      // "solo" in requests of 150 (positions that follow one another: read as
      // ranges), "a" and "b" one event at a time between them (read as lists).
      append_rounds(*j, versions, {"a", "b"}, 20);
      auto& v = versions["solo"];
      append_ok(*j, request("S", "solo", v, 150));
      v += 150;
    }
  }
  auto j = open_journal(backend.factory);  // folds every event
  REQUIRE(folded_mark(backend.path) == value_of(j->last_position()));
  const auto all = read_everything(*j);
  for (const auto& [id, last] : versions) {
    std::vector<stored_event> expected;
    for (const auto& e : all)
      if (e.aggregate_id == id) expected.push_back(e);
    REQUIRE(expected.size() == last);
    for (std::size_t chunk : {1, 15, 16, 63, 64, 65, 149, 151, 1000}) {
      INFO("stream " << id << ", chunks of " << chunk);
      std::vector<stored_event> read;
      while (read.size() < last) {
        auto part = value_of(j->read_stream("S", id, read.size() + 1, chunk));
        REQUIRE(part.size() == std::min<std::size_t>(chunk, last - read.size()));
        read.insert(read.end(), part.begin(), part.end());
      }
      check_same(read, expected);
    }
  }
}
