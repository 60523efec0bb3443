// What the journal tests share: a temp directory, the memory, SQLite and
// PostgreSQL backends, requests that name their versions, and checks on results.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/memory_journal.hpp>
#include <interlock/persistence/postgres/connection.hpp>
#include <interlock/persistence/postgres_journal.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

#include "raw_db.hpp"

namespace journal_testing {

using namespace interlock;
using Catch::Matchers::Contains;

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with its contents.
struct temp_dir {
  fs::path path;
  temp_dir() {
    auto pattern = (fs::temp_directory_path() / "interlock-journal-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

// The backends the conformance tests run against: each gives a factory whose
// journals share one fresh, empty store.
struct memory_backend {
  journal_factory factory = memory_journal_factory();
};

struct sqlite_backend {
  temp_dir dir;
  std::string path = (dir.path / "journal.db").string();
  journal_factory factory = sqlite_journal_factory(sqlite_options{path});
};

// The PostgreSQL server the tests use: INTERLOCK_TEST_POSTGRES_URL if set
// (a real server), else the throwaway cluster ctest's `postgres` fixture
// started, whose URL it left in a file (tests/CMakeLists.txt).
inline std::string postgres_test_url() {
  if (const char* url = std::getenv("INTERLOCK_TEST_POSTGRES_URL"); url && *url) return url;
  std::ifstream in{INTERLOCK_TEST_POSTGRES_URL_FILE};
  std::string url;
  if (!std::getline(in, url) || url.empty())
    FAIL("no PostgreSQL server for this test: run it through ctest, which starts one "
         "(scripts/postgres-test-cluster.sh), or set INTERLOCK_TEST_POSTGRES_URL");
  return url;
}

// A schema no other test uses, also in another test process at the same time.
inline std::string fresh_postgres_schema() {
  static std::atomic<int> counter{0};
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" + std::to_string(us % 1'000'000);
}

// Runs one statement on the test server (set-up and clean-up of tests).
inline caf::expected<postgres::result> postgres_exec(const std::string& url, const std::string& sql) {
  auto db = postgres::connection::open(url, std::chrono::seconds{10});
  if (!db) return std::move(db.error());
  return db->run_one({sql}, std::chrono::seconds{10});
}

// Tests share one database (CREATE DATABASE costs most of a second) and keep
// apart by schema: each backend has its own, dropped at the end.
struct postgres_backend {
  std::string url = postgres_test_url();
  std::string schema = fresh_postgres_schema();
  journal_factory factory = postgres_journal_factory(postgres_options{url, schema});
  ~postgres_backend() { postgres_exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE"); }
};

template <class T>
T value_of(caf::expected<T> x) {
  if (!x) FAIL("unexpected error: " << interlock::describe(x.error()));
  return std::move(*x);
}

inline std::unique_ptr<journal> open_journal(const journal_factory& factory) { return value_of(factory()); }

inline std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// `n` events for stream type/id expected at `expected`; payloads name their version.
inline append_request request(const std::string& type, const std::string& id, std::uint64_t expected, std::size_t n) {
  append_request req;
  req.aggregate_type = type;
  req.aggregate_id = id;
  req.expected_version = expected;
  for (std::size_t i = 0; i < n; ++i)
    req.events.push_back({"Happened", 1, R"({"v":)" + std::to_string(expected + 1 + i) + "}"});
  req.command_id = "cmd-" + id + "-" + std::to_string(expected);
  req.correlation_id = "corr-" + id;
  req.causation_id = "cause-" + id;
  return req;
}

/// `req` flagged after_previous: it rests on the last request of its stream.
inline append_request chained(append_request req) {
  req.after_previous = true;
  return req;
}

inline append_result append_ok(journal& j, const append_request& req) {
  auto results = j.append({req});
  REQUIRE(results.size() == 1);
  return value_of(std::move(results[0]));
}

inline caf::error append_error(journal& j, const append_request& req) {
  auto results = j.append({req});
  REQUIRE(results.size() == 1);
  REQUIRE_FALSE(results[0]);
  return results[0].error();
}

inline void check_error(const caf::error& err, errc code, const std::vector<std::string>& words) {
  INFO(interlock::describe(err));
  CHECK(interlock::is(err, code));
  for (const auto& w : words) CHECK_THAT(message_of(err), Contains(w));
}

inline void check_same(const stored_event& a, const stored_event& b) {
  CHECK(a.position == b.position);
  CHECK(a.aggregate_type == b.aggregate_type);
  CHECK(a.aggregate_id == b.aggregate_id);
  CHECK(a.version == b.version);
  CHECK(a.event_type == b.event_type);
  CHECK(a.schema_version == b.schema_version);
  CHECK(a.recorded_at_us == b.recorded_at_us);
  CHECK(a.command_id == b.command_id);
  CHECK(a.correlation_id == b.correlation_id);
  CHECK(a.causation_id == b.causation_id);
  CHECK(a.payload == b.payload);
}

inline void check_same(const std::vector<stored_event>& a, const std::vector<stored_event>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) check_same(a[i], b[i]);
}

inline std::vector<std::uint64_t> positions_of(const std::vector<stored_event>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& ev : events) out.push_back(ev.position);
  return out;
}

inline std::vector<std::uint64_t> versions_of(const std::vector<stored_event>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& ev : events) out.push_back(ev.version);
  return out;
}

inline std::vector<std::uint64_t> iota(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (auto i = first; i <= last; ++i) out.push_back(i);
  return out;
}

inline std::vector<stored_event> read_everything(journal& j) { return value_of(j.read_all(1, 1'000'000)); }

// SQLite's plan for `sql` (one step) on a new, empty journal file: shows
// which index a statement of the journal's uses.
inline std::string plan_on_new_journal(const std::string& sql) {
  sqlite_backend backend;
  { open_journal(backend.factory); }
  testing_support::raw_db db{backend.path};
  const auto plan = db.rows("EXPLAIN QUERY PLAN " + sql);
  REQUIRE(plan.size() == 1);
  return plan[0];
}

}  // namespace journal_testing
