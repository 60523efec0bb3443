// How interlock-journal opens files: read-only SQLite connections (a reader in
// WAL mode never blocks the application writing to the file), checked to be a
// journal of the current format or a read store, and a small query helper.
//
// Every failure is a tool_error whose message names the file and the problem
// (missing, not a database, not a journal, wrong format); main() prints it
// and exits with its code (1; 2 for usage errors).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace journal_cli {

/// A failure that ends the command: its message for stderr, its exit status.
struct tool_error : std::runtime_error {
  explicit tool_error(const std::string& message, int code = 1) : std::runtime_error(message), exit_code(code) {}
  int exit_code;
};

/// A bound parameter.
using sql_value = std::variant<std::int64_t, std::string>;

/// One result row, valid during the visit.
class row {
 public:
  explicit row(sqlite3_stmt* stmt) : stmt_(stmt) {}
  std::int64_t i64(int col) const;
  std::uint64_t u64(int col) const { return static_cast<std::uint64_t>(i64(col)); }
  std::string_view text(int col) const;  // NULL reads as ""
  bool null(int col) const;

 private:
  sqlite3_stmt* stmt_;
};

/// An owned read-only connection.
class database {
 public:
  /// Opens `path` read-only (it must exist); `what` names it in errors ("journal", "read store").
  database(const std::string& path, std::string what);
  ~database();
  database(database&& other) noexcept;
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  database& operator=(database&&) = delete;

  const std::string& path() const { return path_; }

  /// Runs `sql` with `params`, calling `visit` per row until it returns false.
  void each(std::string_view sql, const std::vector<sql_value>& params, const std::function<bool(const row&)>& visit);
  /// The first column of the first row as an integer (0 without rows).
  std::int64_t scalar(std::string_view sql, const std::vector<sql_value>& params = {});
  /// True if the database has a table named `name`.
  bool has_table(std::string_view name);

  /// A tool_error "<what> '<path>': <problem>: <SQLite's message>".
  [[noreturn]] void fail(const std::string& problem) const;

 private:
  void check_is_database();
  std::string path_;
  std::string what_;
  sqlite3* db_ = nullptr;
};

/// Opens `path` read-only as a journal of the current format: a tool_error
/// if it is missing, not a database, not a journal or of another format.
database open_journal(const std::string& path);

/// Opens `path` read-only as a read store (it has projection_checkpoints).
database open_read_store(const std::string& path);

/// The read store beside journal `path` ("x.db" -> "x.read.db") if that file exists, else "".
std::string read_store_beside(const std::string& journal_path);

/// True if the file at `path` is a SQLite database holding a table `table`
/// (false if it is missing or not a database).
bool file_has_table(const std::string& path, std::string_view table);

}  // namespace journal_cli
