// The read stores the read-store tests run on: one in memory, one in a SQLite
// file of a temporary folder of its own (removed with the object).
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include <interlock/persistence/memory_read_store.hpp>
#include <interlock/persistence/sqlite_read_store.hpp>

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

/// A new store from `factory`; fails the test if it cannot open.
inline std::unique_ptr<interlock::read_store> open_store(const interlock::read_store_factory& factory) {
  auto store = factory();
  REQUIRE(store);
  return std::move(*store);
}

}  // namespace read_store_testing
