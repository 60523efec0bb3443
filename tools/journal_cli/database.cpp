// Read-only connections and the checks that a file is what a command needs (database.hpp).
#include "database.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <utility>

#include <interlock/persistence/read_store.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

namespace journal_cli {
namespace {

namespace fs = std::filesystem;

void check_exists(const std::string& path, const std::string& what) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) throw tool_error{"cannot open " + what + " '" + path + "': no such file"};
  if (fs::is_directory(status)) throw tool_error{"cannot open " + what + " '" + path + "': it is a directory"};
}

// Binds `params` (1-based) to `stmt`.
void bind_all(sqlite3_stmt* stmt, const std::vector<sql_value>& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int at = static_cast<int>(i) + 1;
    if (const auto* n = std::get_if<std::int64_t>(&params[i]))
      sqlite3_bind_int64(stmt, at, *n);
    else {
      const auto& s = std::get<std::string>(params[i]);
      sqlite3_bind_text(stmt, at, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    }
  }
}

struct finalizer {
  sqlite3_stmt* stmt = nullptr;
  ~finalizer() { sqlite3_finalize(stmt); }
};

}  // namespace

std::int64_t row::i64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string_view row::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p == nullptr ? std::string_view{} : std::string_view{p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}

bool row::null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

database::database(const std::string& path, std::string what) : path_(path), what_(std::move(what)) {
  check_exists(path, what_);
  try {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) fail("cannot open it");
    sqlite3_busy_timeout(db_, 5000);
    check_is_database();
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

// Opening is lazy: the first read is what finds out that a file is not a database.
void database::check_is_database() {
  finalizer stmt;
  const int rc = sqlite3_prepare_v2(db_, "SELECT count(*) FROM sqlite_schema", -1, &stmt.stmt, nullptr);
  if (rc == SQLITE_NOTADB || (rc == SQLITE_OK && sqlite3_step(stmt.stmt) == SQLITE_NOTADB))
    throw tool_error{"cannot open " + what_ + " '" + path_ + "': it is not a SQLite database"};
  if (rc != SQLITE_OK) fail("cannot read it");
}

database::~database() { sqlite3_close(db_); }

database::database(database&& other) noexcept
    : path_(std::move(other.path_)), what_(std::move(other.what_)), db_(std::exchange(other.db_, nullptr)) {}

void database::fail(const std::string& problem) const {
  const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
  throw tool_error{what_ + " '" + path_ + "': " + problem + ": " + message};
}

void database::each(std::string_view sql, const std::vector<sql_value>& params,
                    const std::function<bool(const row&)>& visit) {
  finalizer stmt;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt.stmt, nullptr) != SQLITE_OK)
    fail("cannot read it");
  bind_all(stmt.stmt, params);
  int rc;
  while ((rc = sqlite3_step(stmt.stmt)) == SQLITE_ROW)
    if (!visit(row{stmt.stmt})) return;
  if (rc != SQLITE_DONE) fail("cannot read it");
}

std::int64_t database::scalar(std::string_view sql, const std::vector<sql_value>& params) {
  std::int64_t out = 0;
  each(sql, params, [&](const row& r) { return out = r.i64(0), false; });
  return out;
}

bool database::has_table(std::string_view name) {
  return scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", {std::string{name}}) > 0;
}

database open_journal(const std::string& path) {
  database db{path, "journal"};
  const auto here = "cannot open journal '" + path + "': ";
  if (!db.has_table("journal_meta")) {
    const bool read_store = db.has_table("projection_checkpoints");
    throw tool_error{here + "it is a SQLite database but not an interlock journal (no journal_meta table" +
                     (read_store ? "; it looks like a read store)" : ")")};
  }
  const auto format = db.scalar("SELECT value FROM journal_meta WHERE key = 'format_version'");
  const auto current = interlock::sqlite_journal_format_version;
  if (format >= 1 && format < current)
    throw tool_error{here + "it is in format " + std::to_string(format) + ", this tool reads format " +
                     std::to_string(current) + "; upgrade it with `interlock-journal upgrade " + path + "`"};
  if (format != current)
    throw tool_error{here + "it has format version " + std::to_string(format) + ", this tool reads format " +
                     std::to_string(current)};
  return db;
}

database open_read_store(const std::string& path) {
  database db{path, "read store"};
  if (!db.has_table("projection_checkpoints"))
    throw tool_error{"cannot open read store '" + path + "': it has no projection_checkpoints table" +
                     (db.has_table("events") ? " (it looks like a journal)" : "")};
  return db;
}

std::string read_store_beside(const std::string& journal_path) {
  auto path = interlock::read_store_path_for(journal_path);
  std::error_code ec;
  return fs::is_regular_file(path, ec) ? path : std::string{};
}

bool file_has_table(const std::string& path, std::string_view table) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  try {
    database db{path, "file"};
    return db.has_table(table);
  } catch (const tool_error&) {
    return false;
  }
}

}  // namespace journal_cli
