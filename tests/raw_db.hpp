// A plain sqlite3 connection to a journal file, as a person with the shell
// would have: for tests that look at or tamper with what is stored.
#pragma once

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>

namespace testing_support {

struct raw_db {
  sqlite3* db = nullptr;
  explicit raw_db(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK); }
  ~raw_db() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* msg = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
    std::string text = msg != nullptr ? msg : "";
    sqlite3_free(msg);
    INFO(sql << ": " << text);
    REQUIRE(rc == SQLITE_OK);
  }
  // Every row of `sql`, columns joined with '|' like the shell prints them.
  std::vector<std::string> rows(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    INFO(sql);
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::vector<std::string> out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row += (c > 0 ? "|" : "") + std::string{text != nullptr ? text : ""};
      }
      out.push_back(row);
    }
    sqlite3_finalize(stmt);
    return out;
  }
};

}  // namespace testing_support
