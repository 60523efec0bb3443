#include <interlock/persistence/read_db.hpp>

#include <string>
#include <unordered_map>

#include <sqlite3.h>

#include <interlock/core/detail/utf8.hpp>

namespace interlock {

namespace {

[[noreturn]] void fail(sqlite3*, std::string_view sql, const std::string& why) {
  throw sql_error(std::string{"SQL '"}.append(sql).append("': ").append(why));
}

}  // namespace

struct read_db::statement_cache {
  std::unordered_map<std::string, sqlite3_stmt*> by_text;
  ~statement_cache() {
    for (auto& [sql, stmt] : by_text) sqlite3_finalize(stmt);
  }
};

read_db::read_db(sqlite3* db) : db_(db), cache_(std::make_unique<statement_cache>()) {}

read_db::~read_db() = default;

std::int64_t read_db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

std::int64_t read_db::changes() const { return sqlite3_changes64(db_); }

read_db::cursor::cursor(read_db& db, std::string_view sql) : db_(db), stmt_(nullptr), sql_(sql) {
  auto& cached = db.cache_->by_text[std::string{sql}];
  if (cached == nullptr) {
    const char* tail = nullptr;
    if (sqlite3_prepare_v3(db.db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &cached,
                           &tail) != SQLITE_OK) {
      db.cache_->by_text.erase(std::string{sql});
      fail(db.db_, sql, sqlite3_errmsg(db.db_));
    }
    if (cached == nullptr) {  // only a comment or white space
      db.cache_->by_text.erase(std::string{sql});
      fail(db.db_, sql, "no statement");
    }
    if (tail != nullptr && std::string_view{tail}.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(cached);
      db.cache_->by_text.erase(std::string{sql});
      fail(db.db_, sql, "more than one statement (run them one exec() at a time)");
    }
  }
  stmt_ = cached;
}

read_db::cursor::~cursor() {
  auto* stmt = static_cast<sqlite3_stmt*>(stmt_);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

namespace {
sqlite3_stmt* as_stmt(void* p) { return static_cast<sqlite3_stmt*>(p); }
}  // namespace

bool read_db::cursor::step() {
  if (!checked_) {  // a missing argument would bind NULL without a word
    checked_ = true;
    const int wanted = sqlite3_bind_parameter_count(as_stmt(stmt_));
    if (index_ != wanted)
      fail(db_.db_, sql_, "takes " + std::to_string(wanted) + " parameters, given " + std::to_string(index_));
  }
  const int rc = sqlite3_step(as_stmt(stmt_));
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_.db_, sql_, sqlite3_errmsg(db_.db_));
}

void read_db::cursor::check(int i, int rc) {
  if (rc == SQLITE_RANGE)
    fail(db_.db_, sql_, "takes " + std::to_string(sqlite3_bind_parameter_count(as_stmt(stmt_))) +
                            " parameters, given at least " + std::to_string(i));
  if (rc != SQLITE_OK) fail(db_.db_, sql_, "parameter " + std::to_string(i) + ": " + sqlite3_errstr(rc));
}

void read_db::cursor::bind_null(int i) { check(i, sqlite3_bind_null(as_stmt(stmt_), i)); }

void read_db::cursor::bind_int(int i, std::int64_t v) { check(i, sqlite3_bind_int64(as_stmt(stmt_), i, v)); }

void read_db::cursor::bind_real(int i, double v) { check(i, sqlite3_bind_double(as_stmt(stmt_), i, v)); }

void read_db::cursor::bind_text(int i, std::string_view v) {
  if (auto bad = detail::utf8_error_at(v); bad != std::string_view::npos)
    fail(db_.db_, sql_, "parameter " + std::to_string(i) + " is not valid UTF-8 (" +
                            detail::describe_utf8_error(v[bad], bad) + ")");
  // SQLITE_TRANSIENT: the text is copied, so a temporary argument may go before step().
  check(i, sqlite3_bind_text64(as_stmt(stmt_), i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

bool read_db::cursor::is_null(int col) const { return sqlite3_column_type(as_stmt(stmt_), col) == SQLITE_NULL; }

std::int64_t read_db::cursor::column_int(int col) const { return sqlite3_column_int64(as_stmt(stmt_), col); }

double read_db::cursor::column_real(int col) const { return sqlite3_column_double(as_stmt(stmt_), col); }

std::string_view read_db::cursor::column_text(int col) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(as_stmt(stmt_), col));
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(as_stmt(stmt_), col))};
}

}  // namespace interlock
