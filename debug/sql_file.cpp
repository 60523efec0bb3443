#include "sql_file.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "console.hpp"

namespace interlock::debug::detail {

sql_file::sql_file(const std::string& path, mode m, std::string what) : path_(path), what_(std::move(what)) {
  std::error_code ec;
  if (m == mode::read_only && !std::filesystem::is_regular_file(path, ec))
    throw failure{"no " + what_ + " file at '" + path + "'"};
  const int flags = m == mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) fail("cannot open it");
  sqlite3_busy_timeout(db_, 5000);
}

sql_file::~sql_file() { sqlite3_close(db_); }

void sql_file::fail(const std::string& doing) const {
  throw failure{what_ + " '" + path_ + "': " + doing + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory")};
}

namespace {

nlohmann::json column(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER: return sqlite3_column_int64(stmt, col);
    case SQLITE_FLOAT: return sqlite3_column_double(stmt, col);
    case SQLITE_TEXT: return std::string{reinterpret_cast<const char*>(sqlite3_column_text(stmt, col)),
                                         static_cast<std::size_t>(sqlite3_column_bytes(stmt, col))};
    case SQLITE_BLOB: return "<blob of " + std::to_string(sqlite3_column_bytes(stmt, col)) + " bytes>";
    default: return nullptr;
  }
}

}  // namespace

void sql_file::each(const std::string& sql, const std::vector<std::string>& params,
                    const std::function<void(const std::vector<nlohmann::json>&)>& row) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) fail(sql);
  const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> finalized{stmt, sqlite3_finalize};
  for (std::size_t i = 0; i < params.size(); ++i)
    sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
  std::vector<nlohmann::json> values(sqlite3_column_count(stmt));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (int c = 0; c < static_cast<int>(values.size()); ++c) values[c] = column(stmt, c);
    row(values);
  }
  if (rc != SQLITE_DONE) fail(sql);
}

void sql_file::exec(const std::string& sql) const {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
}

bool sql_file::has_table(const std::string& name) const {
  bool found = false;
  each("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", {name}, [&](auto&) { found = true; });
  return found;
}

}  // namespace interlock::debug::detail
