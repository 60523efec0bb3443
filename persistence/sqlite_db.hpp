// Thin RAII wrappers over the SQLite C API. Internal to the persistence layer:
// sqlite3.h stays out of every header (the types are only forward declared).
//
// Functions return SQLite result codes (SQLITE_OK, SQLITE_ROW, SQLITE_DONE,
// or an error code); callers turn them into caf::errors with the context only
// they know (path, stream name). A connection and its statements are used by
// one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace interlock::sqlite {

/// An owned database handle, closed on destruction. Move-only.
class connection {
 public:
  connection() = default;
  ~connection();
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Opens (creating if missing) the database at `path` for reading and
  /// writing; with `uri`, a "file:" path is read as a URI (in-memory
  /// databases). On failure the handle is kept when SQLite allocated one, so
  /// that last_error() can tell why.
  int open(const std::string& path, bool uri = false);

  sqlite3* get() const { return db_; }

  /// SQLite's English message for the most recent failure on this connection.
  std::string last_error() const;

  /// Runs one or more statements that return no rows worth reading.
  int exec(const char* sql);

  /// True between BEGIN and COMMIT/ROLLBACK (SQLite may end a transaction by
  /// itself after some errors, so callers ask rather than track it).
  bool in_transaction() const;

 private:
  void close();
  sqlite3* db_ = nullptr;
};

/// An owned prepared statement, finalized on destruction. Move-only.
/// Text is bound without copying: it must stay alive until the statement is
/// reset, and every parameter is bound anew before each step().
class statement {
 public:
  statement() = default;
  ~statement();
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  /// Compiles `sql` for `db`, replacing whatever this object held.
  int prepare(sqlite3* db, std::string_view sql);

  /// Parameter indexes are 1-based. A failed bind (e.g. text too big) is
  /// remembered and returned by the next step().
  void bind(int index, std::int64_t value);
  void bind(int index, std::string_view text);
  /// Binds SQL NULL for an empty string (optional columns read better in the shell).
  void bind_or_null(int index, std::string_view text);
  void bind_null(int index);
  /// Binds bytes as a BLOB, without copying (kept alive as text is).
  void bind_blob(int index, std::string_view bytes);

  /// SQLITE_ROW, SQLITE_DONE, or the error code.
  int step();

  /// Column indexes are 0-based; NULL reads as 0 / "".
  std::int64_t column_int64(int col) const;
  std::string column_text(int col) const;
  /// The column's text in SQLite's memory: valid until the next step() or reset().
  std::string_view column_view(int col) const;
  /// The column's bytes as a BLOB, on the same terms.
  std::string_view column_blob(int col) const;

  /// Ends the current execution so that it holds no locks or read snapshot.
  void reset();

 private:
  void note_bind(int rc);
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = 0;
};

/// Resets a statement when it goes out of scope: a SELECT read only partially
/// (LIMIT, early return) must not keep its WAL read snapshot open.
class reset_on_exit {
 public:
  explicit reset_on_exit(statement& stmt) : stmt_(stmt) {}
  ~reset_on_exit() { stmt_.reset(); }
  reset_on_exit(const reset_on_exit&) = delete;
  reset_on_exit& operator=(const reset_on_exit&) = delete;

 private:
  statement& stmt_;
};

/// One read snapshot over several statements (WAL): what they read agrees
/// with itself while other connections commit. Nothing is begun, and ok(),
/// when the connection is in a transaction already (it has one).
class read_transaction {
 public:
  explicit read_transaction(connection& db) : db_(db), own_(!db.in_transaction()) {
    if (own_) ok_ = db_.exec("BEGIN") == 0;  // SQLITE_OK
  }
  ~read_transaction() {
    if (own_ && ok_) db_.exec("COMMIT");
  }
  read_transaction(const read_transaction&) = delete;
  read_transaction& operator=(const read_transaction&) = delete;

  bool ok() const { return ok_; }

 private:
  connection& db_;
  bool own_;
  bool ok_ = true;
};

}  // namespace interlock::sqlite
