// The read stores the read-store tests run on: one in memory, one in a SQLite
// file of a temporary folder of its own (removed with the object), one in a
// PostgreSQL schema of its own on the tests' server (dropped with the object).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <interlock/persistence/memory_read_store.hpp>
#include <interlock/persistence/postgres_read_store.hpp>
#include <interlock/persistence/sqlite_read_store.hpp>

#include "journal_test_support.hpp"
#include "test_support.hpp"

namespace read_store_testing {

struct memory_store {
  interlock::read_store_factory factory = interlock::memory_read_store_factory();
};

struct sqlite_store {
  testing_support::temp_dir dir;
  std::string path = dir.file("app.read.db");
  interlock::read_store_factory factory = interlock::sqlite_read_store_factory(path);
};

struct postgres_store {
  std::string url = journal_testing::postgres_test_url();
  std::string schema = journal_testing::fresh_postgres_schema() + "_read";
  interlock::read_store_factory factory = interlock::postgres_read_store_factory({url, schema});
  ~postgres_store() { journal_testing::postgres_exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE"); }
};

/// A new store from `factory`; fails the test if it cannot open.
inline std::unique_ptr<interlock::read_store> open_store(const interlock::read_store_factory& factory) {
  auto store = factory();
  REQUIRE(store);
  return std::move(*store);
}

// One cell of `sql` on the tests' server, as text ("" for none).
inline std::string server_value(const std::string& url, const std::string& sql) {
  auto r = journal_testing::postgres_exec(url, sql);
  if (!r) FAIL(interlock::describe(r.error()));
  return r->rows() == 0 ? std::string{} : std::string{r->text(0, 0)};
}

// Every row of `sql` on the tests' server, its cells joined by '|'.
inline std::vector<std::string> server_rows(const std::string& url, const std::string& sql) {
  auto r = journal_testing::postgres_exec(url, sql);
  if (!r) FAIL(interlock::describe(r.error()));
  std::vector<std::string> out;
  for (int row = 0; row < r->rows(); ++row) {
    std::string line;
    for (int col = 0; col < r->columns(); ++col) line.append(col ? "|" : "").append(r->text(row, col));
    out.push_back(std::move(line));
  }
  return out;
}

// The server process of the session holding `schema`'s lock ("" if none).
inline std::string lock_session(const std::string& url, const std::string& schema) {
  return server_value(url, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND "
                           "classid = hashtext('interlock read store')::oid AND objid = hashtext('" + schema + "')::oid");
}

// Ends session `pid` and waits until the server has let go of what it held.
inline void end_session(const std::string& url, const std::string& pid, const std::string& schema) {
  REQUIRE(server_value(url, "SELECT pg_terminate_backend(" + pid + ")") == "t");
  for (int i = 0; i < 500 && !lock_session(url, schema).empty() && lock_session(url, schema) == pid; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(lock_session(url, schema) != pid);
}

}  // namespace read_store_testing
