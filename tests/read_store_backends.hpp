// The read stores the read-store tests run on: one in memory, one in a SQLite
// file of a temporary folder of its own (removed with the object), one in a
// PostgreSQL schema of its own on the tests' server (dropped with the object).
#pragma once

#include <memory>
#include <string>

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

}  // namespace read_store_testing
