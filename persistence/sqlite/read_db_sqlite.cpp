#include <interlock/persistence/sqlite/read_db_sqlite.hpp>

#include <string>

#include <sqlite3.h>

namespace interlock::sqlite {
namespace {

// `db`'s last error code is the failure's.
[[noreturn]] void fail(sqlite3* db, std::string_view sql, const std::string& why) {
  detail::throw_sql_error(sql, why, sqlite3_errcode(db) & 0xff);
}

class statement final : public detail::sql_statement {
 public:
  statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  ~statement() override { sqlite3_finalize(stmt_); }

  int parameter_count() const override { return sqlite3_bind_parameter_count(stmt_); }
  void bind_null(int i) override { check(i, sqlite3_bind_null(stmt_, i)); }
  void bind_int(int i, std::int64_t v) override { check(i, sqlite3_bind_int64(stmt_, i, v)); }
  void bind_real(int i, double v) override { check(i, sqlite3_bind_double(stmt_, i, v)); }
  // SQLITE_STATIC, not copied: the arguments of exec(), rows() and value()
  // live until the call returns, and the statement is reset before that.
  void bind_text(int i, std::string_view v) override {
    check(i, sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
  }

  bool step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, sql_, sqlite3_errmsg(db_));
  }

  // Every parameter is bound anew before each step (read_db checks the
  // count), so the bindings need no clearing: a reset ends the run.
  void reset() noexcept override { sqlite3_reset(stmt_); }

  int column_count() const override { return sqlite3_column_count(stmt_); }
  bool is_null(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t column_int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double column_real(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::string_view column_text(int col) const override {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    if (text == nullptr) return {};
    return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
  }

 private:
  void check(int i, int rc) {
    if (rc != SQLITE_OK) fail(db_, sql_, "parameter " + std::to_string(i) + ": " + sqlite3_errstr(rc));
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
};

class connection final : public detail::sql_connection {
 public:
  explicit connection(sqlite3* db) : db_(db) {}

  sql_dialect dialect() const override { return sql_dialect::sqlite; }

  // `sql` must be exactly one statement.
  std::unique_ptr<detail::sql_statement> prepare(std::string_view sql) override {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, &tail) !=
        SQLITE_OK)
      fail(db_, sql, sqlite3_errmsg(db_));
    if (stmt == nullptr) detail::throw_sql_error(sql, "no statement", 0);  // only a comment or white space
    auto out = std::make_unique<statement>(db_, stmt, std::string{sql});
    const auto rest = std::string_view{tail, static_cast<std::size_t>(sql.data() + sql.size() - tail)};
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos)
      detail::throw_sql_error(sql, "more than one statement (run them one exec() at a time)", 0);
    return out;
  }

  std::int64_t changes() const override { return sqlite3_changes64(db_); }
  std::int64_t last_insert_rowid() const override { return sqlite3_last_insert_rowid(db_); }

 private:
  sqlite3* db_;
};

}  // namespace

std::unique_ptr<detail::sql_connection> make_read_db_backend(sqlite3* db) { return std::make_unique<connection>(db); }

}  // namespace interlock::sqlite
