// read_db's backend-neutral half: the statement cache, parameter counts and
// UTF-8, column bounds. The databases' halves: persistence/read_db_backend.hpp.
#include <interlock/persistence/read_db.hpp>

#include <string>
#include <unordered_map>

#include <sqlite3.h>  // the result codes sql_error::code() speaks

#include <interlock/core/detail/utf8.hpp>
#include <interlock/persistence/read_db_backend.hpp>
#include <interlock/persistence/sqlite/read_db_sqlite.hpp>

namespace interlock {

namespace detail {

void throw_sql_error(std::string_view sql, const std::string& why, int code, std::string sqlstate) {
  throw sql_error(std::string{"SQL '"}.append(sql).append("': ").append(why), code, std::move(sqlstate));
}

}  // namespace detail

namespace {

// A mistake caught before the database ran: code 0.
[[noreturn]] void fail(std::string_view sql, const std::string& why) { detail::throw_sql_error(sql, why, 0); }

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
  std::unordered_map<std::string, std::unique_ptr<detail::sql_statement>, text_hash, std::equal_to<>> by_text;
  // The statement used last: a handler runs the same few statements for event
  // after event, and comparing the text is cheaper than hashing it.
  std::string_view last_text;
  detail::sql_statement* last = nullptr;

  detail::sql_statement* find(std::string_view sql) {
    if (last != nullptr && sql == last_text) return last;
    auto it = by_text.find(sql);
    if (it == by_text.end()) return nullptr;
    remember(it);
    return it->second.get();
  }

  template <class It>
  void remember(It it) {
    last_text = it->first;  // the map's key: stable while the entry lives
    last = it->second.get();
  }
};

read_db::read_db(sqlite3* db) : read_db(sqlite::make_read_db_backend(db)) {}

read_db::read_db(std::unique_ptr<detail::sql_connection> backend)
    : backend_(std::move(backend)), cache_(std::make_unique<statement_cache>()) {}

// The statements go before the connection they were prepared on.
read_db::~read_db() { cache_.reset(); }

std::int64_t read_db::last_insert_rowid() const {
  if (backend_->dialect() != sql_dialect::sqlite)
    fail("last_insert_rowid()", "SQLite only: on PostgreSQL, INSERT ... RETURNING gives the key");
  return backend_->last_insert_rowid();
}

sql_dialect read_db::dialect() const { return backend_->dialect(); }

std::int64_t read_db::changes() const { return backend_->changes(); }

read_db::cursor::cursor(read_db& db, std::string_view sql) : db_(db), stmt_(nullptr), sql_(sql) {
  auto& cache = *db.cache_;
  auto* stmt = cache.find(sql);
  if (stmt == nullptr) {
    auto prepared = db.backend_->prepare(sql);
    stmt = prepared.get();
    cache.remember(cache.by_text.emplace(std::string{sql}, std::move(prepared)).first);
  }
  stmt_ = stmt;
}

read_db::cursor::~cursor() { stmt_->reset(); }

bool read_db::cursor::step() {
  if (!checked_) {  // a missing argument would bind NULL without a word
    checked_ = true;
    const int wanted = stmt_->parameter_count();
    if (index_ != wanted)
      fail(sql_, "takes " + std::to_string(wanted) + " parameters, given " + std::to_string(index_));
  }
  return stmt_->step();
}

void read_db::cursor::check_index(int i) {
  const int wanted = stmt_->parameter_count();
  if (i > wanted)
    fail(sql_, "takes " + std::to_string(wanted) + " parameters, given at least " + std::to_string(i));
}

void read_db::cursor::bind_null(int i) {
  check_index(i);
  stmt_->bind_null(i);
}

void read_db::cursor::bind_int(int i, std::int64_t v) {
  check_index(i);
  stmt_->bind_int(i, v);
}

void read_db::cursor::bind_real(int i, double v) {
  check_index(i);
  stmt_->bind_real(i, v);
}

void read_db::cursor::bind_text(int i, std::string_view v) {
  check_index(i);
  if (auto bad = detail::utf8_error_at(v); bad != std::string_view::npos)
    fail(sql_, "parameter " + std::to_string(i) + " is not valid UTF-8 (" + detail::describe_utf8_error(v[bad], bad) +
                   ")");
  stmt_->bind_text(i, v);
}

namespace {
void check_column(const detail::sql_statement& stmt, std::string_view sql, int col) {
  const int count = stmt.column_count();
  if (col >= count)
    fail(sql, "reads column " + std::to_string(col + 1) + ", but the statement returns " + std::to_string(count));
}
}  // namespace

bool read_db::cursor::is_null(int col) const {
  check_column(*stmt_, sql_, col);
  return stmt_->is_null(col);
}

std::int64_t read_db::cursor::column_int(int col) const {
  check_column(*stmt_, sql_, col);
  return stmt_->column_int(col);
}

double read_db::cursor::column_real(int col) const {
  check_column(*stmt_, sql_, col);
  return stmt_->column_real(col);
}

std::string_view read_db::cursor::column_text(int col) const {
  check_column(*stmt_, sql_, col);
  return stmt_->column_text(col);
}

}  // namespace interlock
