#pragma once

#include <string>

#include "bank_domain.hpp"
#include "test_support.hpp"

namespace testing_support {

/// The test bank on a SQLite file (or in memory for an empty path).
inline caf::expected<interlock::application> start_bank(caf::actor_system& sys, const std::string& db,
                                                        interlock::runtime_settings settings = {}) {
  interlock::application_builder b{sys};
  testbank::register_bank(b);
  b.settings(settings);
  if (db.empty()) b.in_memory();
  else b.sqlite(db);
  return b.build();
}

/// The test bank with its journal in `schema` on the PostgreSQL server at `url`.
inline caf::expected<interlock::application> start_bank_on_postgres(caf::actor_system& sys, const std::string& url,
                                                                    const std::string& schema,
                                                                    interlock::runtime_settings settings = {}) {
  interlock::application_builder b{sys};
  testbank::register_bank(b);
  b.settings(settings);
  b.postgres(url, schema);
  return b.build();
}

}  // namespace testing_support
