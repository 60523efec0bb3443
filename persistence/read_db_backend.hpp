// What read_db (read_db.hpp) runs on: a database connection that prepares
// statements, and a prepared statement that binds, steps and reads columns.
// Two implementations: SQLite (persistence/sqlite/read_db_sqlite.hpp) and
// PostgreSQL (persistence/postgres/read_db_postgres.hpp). read_db keeps the
// cache of statements by SQL text, checks parameter counts and UTF-8, and
// reports failures; a backend throws sql_error (throw_sql_error) for what
// only the database can tell. Internal to persistence/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <interlock/persistence/read_db.hpp>

namespace interlock::detail {

/// Throws sql_error "SQL '<sql>': <why>".
[[noreturn]] void throw_sql_error(std::string_view sql, const std::string& why, int code, std::string sqlstate = {});

class sql_statement {
 public:
  virtual ~sql_statement() = default;
  /// The `?` parameters the statement takes (numbered from 1).
  virtual int parameter_count() const = 0;
  virtual void bind_null(int i) = 0;
  virtual void bind_int(int i, std::int64_t v) = 0;
  virtual void bind_real(int i, double v) = 0;
  /// `v` is valid UTF-8 (checked by read_db) and lives until reset().
  virtual void bind_text(int i, std::string_view v) = 0;
  /// The next row (true) or the end (false); the first call runs the statement.
  virtual bool step() = 0;
  /// Ends the run: the next bind starts a new one.
  virtual void reset() noexcept = 0;
  /// Columns of the current row.
  virtual int column_count() const = 0;
  virtual bool is_null(int col) const = 0;
  virtual std::int64_t column_int(int col) const = 0;
  virtual double column_real(int col) const = 0;
  /// Valid until the next step() or reset().
  virtual std::string_view column_text(int col) const = 0;
};

class sql_connection {
 public:
  virtual ~sql_connection() = default;
  virtual sql_dialect dialect() const = 0;
  /// `sql` (exactly one statement) prepared; read_db caches it.
  virtual std::unique_ptr<sql_statement> prepare(std::string_view sql) = 0;
  /// The rows the last statement run changed.
  virtual std::int64_t changes() const = 0;
  virtual std::int64_t last_insert_rowid() const = 0;
};

}  // namespace interlock::detail
