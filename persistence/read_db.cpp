#include <interlock/persistence/read_db.hpp>

#include <string>
#include <unordered_map>

#include <sqlite3.h>

#include <interlock/core/detail/utf8.hpp>

namespace interlock {

namespace {

// `db`'s last error code is the failure's when it came from SQLite.
[[noreturn]] void fail(sqlite3* db, std::string_view sql, const std::string& why, bool from_sqlite = true) {
  throw sql_error(std::string{"SQL '"}.append(sql).append("': ").append(why),
                  from_sqlite ? (sqlite3_errcode(db) & 0xff) : 0);
}

}  // namespace

bool sql_error::storage_failure() const {
  switch (code_) {
    case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_NOMEM:
    case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_PROTOCOL: case SQLITE_CORRUPT: case SQLITE_NOTADB:
      return true;
    default:
      return false;
  }
}

struct text_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct read_db::statement_cache {
  std::unordered_map<std::string, sqlite3_stmt*, text_hash, std::equal_to<>> by_text;
  // The statement used last: a handler runs the same few statements for event
  // after event, and comparing the text is cheaper than hashing it.
  std::string_view last_text;
  sqlite3_stmt* last = nullptr;

  ~statement_cache() {
    for (auto& [sql, stmt] : by_text) sqlite3_finalize(stmt);
  }

  sqlite3_stmt* find(std::string_view sql) {
    if (last != nullptr && sql == last_text) return last;
    auto it = by_text.find(sql);
    if (it == by_text.end()) return nullptr;
    remember(it);
    return it->second;
  }

  template <class It>
  void remember(It it) {
    last_text = it->first;  // the map's key: stable while the entry lives
    last = it->second;
  }
};

read_db::read_db(sqlite3* db) : db_(db), cache_(std::make_unique<statement_cache>()) {}

read_db::~read_db() = default;

std::int64_t read_db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

std::int64_t read_db::changes() const { return sqlite3_changes64(db_); }

namespace {

// Prepares `sql`, which must be exactly one statement.
sqlite3_stmt* prepare_one(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, &tail) !=
      SQLITE_OK)
    fail(db, sql, sqlite3_errmsg(db));
  if (stmt == nullptr) fail(db, sql, "no statement", false);  // only a comment or white space
  const auto rest = std::string_view{tail, static_cast<std::size_t>(sql.data() + sql.size() - tail)};
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    sqlite3_finalize(stmt);
    fail(db, sql, "more than one statement (run them one exec() at a time)", false);
  }
  return stmt;
}

}  // namespace

read_db::cursor::cursor(read_db& db, std::string_view sql) : db_(db), stmt_(nullptr), sql_(sql) {
  auto& cache = *db.cache_;
  auto* stmt = cache.find(sql);
  if (stmt == nullptr) {
    stmt = prepare_one(db.db_, sql);
    cache.remember(cache.by_text.emplace(std::string{sql}, stmt).first);
  }
  stmt_ = stmt;
}

// Every parameter is bound anew before each step (step() checks the count),
// so the bindings need no clearing: a reset ends the statement's run.
read_db::cursor::~cursor() { sqlite3_reset(static_cast<sqlite3_stmt*>(stmt_)); }

namespace {
sqlite3_stmt* as_stmt(void* p) { return static_cast<sqlite3_stmt*>(p); }
}  // namespace

bool read_db::cursor::step() {
  if (!checked_) {  // a missing argument would bind NULL without a word
    checked_ = true;
    const int wanted = sqlite3_bind_parameter_count(as_stmt(stmt_));
    if (index_ != wanted)
      fail(db_.db_, sql_, "takes " + std::to_string(wanted) + " parameters, given " + std::to_string(index_), false);
  }
  const int rc = sqlite3_step(as_stmt(stmt_));
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_.db_, sql_, sqlite3_errmsg(db_.db_));
}

void read_db::cursor::check(int i, int rc) {
  if (rc == SQLITE_RANGE)
    fail(db_.db_, sql_, "takes " + std::to_string(sqlite3_bind_parameter_count(as_stmt(stmt_))) +
                            " parameters, given at least " + std::to_string(i),
         false);
  if (rc != SQLITE_OK) fail(db_.db_, sql_, "parameter " + std::to_string(i) + ": " + sqlite3_errstr(rc));
}

void read_db::cursor::bind_null(int i) { check(i, sqlite3_bind_null(as_stmt(stmt_), i)); }

void read_db::cursor::bind_int(int i, std::int64_t v) { check(i, sqlite3_bind_int64(as_stmt(stmt_), i, v)); }

void read_db::cursor::bind_real(int i, double v) { check(i, sqlite3_bind_double(as_stmt(stmt_), i, v)); }

void read_db::cursor::bind_text(int i, std::string_view v) {
  if (auto bad = detail::utf8_error_at(v); bad != std::string_view::npos)
    fail(db_.db_, sql_, "parameter " + std::to_string(i) + " is not valid UTF-8 (" +
                            detail::describe_utf8_error(v[bad], bad) + ")",
         false);
  // SQLITE_STATIC, not copied: the arguments of exec(), rows() and value()
  // live until the call returns, and the statement is reset before that.
  check(i, sqlite3_bind_text64(as_stmt(stmt_), i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
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
