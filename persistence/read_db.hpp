// SQL for durable read models. A durable projection's handlers get a read_db
// that runs on the read store's connection, inside the transaction that also
// stores the projection's checkpoint: its tables and its position change
// together or not at all.
//
//   db.exec("UPDATE balances SET amount = amount + ? WHERE account = ?", e.amount, env.aggregate_id);
//   for (auto [account, amount] : db.rows<std::string, std::int64_t>("SELECT account, amount FROM balances"))
//     ...
//   auto n = db.value<std::int64_t>("SELECT count(*) FROM balances");  // std::optional: no row gives nullopt
//
// Two backends, one API: the read store is a SQLite database or a PostgreSQL
// schema (dialect() says which). Parameters are `?` in both (on PostgreSQL
// rewritten to $1, $2, ...; a `?` inside a string literal, a quoted name or a
// comment is left alone). Statements are prepared once per SQL text and
// cached. Parameters bind by type: integers and bool as integers, floating
// point as REAL, strings as text (valid UTF-8 or refused; on PostgreSQL also
// no NUL byte), std::nullopt or an empty std::optional as NULL. On PostgreSQL
// a parameter takes the type its place in the statement gives it: one whose
// type the statement leaves open (`SELECT ? IS NULL`) needs a CAST.
// Columns read as the requested type; NULL reads as 0 or "", or as nullopt
// into a std::optional; reading a column the statement does not return, or
// (PostgreSQL) text that is not a number as a number, fails.
//
// A failure (bad SQL, a constraint, text that is not UTF-8) throws
// interlock::sql_error naming the statement and the database's message; the
// runtime turns it into an error of the event or the query, and the event's
// transaction is rolled back. On PostgreSQL a refused statement also ends the
// transaction's usefulness: catching sql_error and going on in the same
// handler fails the statements after it (SQLSTATE 25P02).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

struct sqlite3;

namespace interlock {

class sql_error : public std::runtime_error {
 public:
  sql_error(const std::string& what, int code, std::string sqlstate = {})
      : std::runtime_error(what), code_(code), sqlstate_(std::move(sqlstate)) {}
  /// SQLite's primary result code (SQLITE_CONSTRAINT = 19, SQLITE_FULL, ...);
  /// 0 for a mistake caught before the database ran (parameter count, text
  /// not UTF-8). On PostgreSQL the SQLSTATE's class maps onto the same
  /// meaning: 23 (integrity) is SQLITE_CONSTRAINT, 22 (data) SQLITE_MISMATCH,
  /// 40 (serialization, deadlock) SQLITE_BUSY, 53 (resources) SQLITE_FULL,
  /// 08/57/58 and a lost connection SQLITE_IOERR, any other SQLITE_ERROR.
  int code() const { return code_; }
  /// PostgreSQL's SQLSTATE ("23505": a unique violation); "" on SQLite.
  const std::string& sqlstate() const { return sqlstate_; }
  /// The database failed (disk full, I/O error, busy, out of memory, the
  /// server gone), not the statement or its data: worth trying again later.
  bool storage_failure() const;

 private:
  int code_;
  std::string sqlstate_;
};

/// Which SQL a read_db speaks: its read store's database.
enum class sql_dialect { sqlite, postgresql };

namespace detail {
template <class T>
struct is_sql_optional : std::false_type {};
template <class T>
struct is_sql_optional<std::optional<T>> : std::true_type {};
class sql_statement;   // persistence/read_db_backend.hpp
class sql_connection;
}  // namespace detail

class read_db {
 public:
  /// Runs `sql` to its end; returns the rows it changed.
  template <class... Args>
  std::int64_t exec(std::string_view sql, const Args&... args) {
    cursor c{*this, sql};
    (c.bind(args), ...);
    while (c.step()) {
    }
    return changes();
  }

  /// Every row of `sql`, each as a tuple of the requested column types.
  template <class... Ts, class... Args>
  std::vector<std::tuple<Ts...>> rows(std::string_view sql, const Args&... args) {
    static_assert(sizeof...(Ts) > 0, "rows<T1, T2, ...>: name the type of each column");
    cursor c{*this, sql};
    (c.bind(args), ...);
    std::vector<std::tuple<Ts...>> out;
    while (c.step()) out.push_back(c.template row<Ts...>(std::index_sequence_for<Ts...>{}));
    return out;
  }

  /// The first column of the first row of `sql`, or nullopt if it has no row.
  template <class T, class... Args>
  std::optional<T> value(std::string_view sql, const Args&... args) {
    cursor c{*this, sql};
    (c.bind(args), ...);
    if (!c.step()) return std::nullopt;
    return c.template column<T>(0);
  }

  /// SQLite's rowid of the last row inserted; on PostgreSQL sql_error (use
  /// INSERT ... RETURNING, which SQLite also runs).
  std::int64_t last_insert_rowid() const;

  sql_dialect dialect() const;

  /// A read_db on `db`, an open connection it does not own (the read store's).
  explicit read_db(sqlite3* db);
  /// A read_db on a backend (persistence/read_db_backend.hpp).
  explicit read_db(std::unique_ptr<detail::sql_connection> backend);
  ~read_db();
  read_db(const read_db&) = delete;
  read_db& operator=(const read_db&) = delete;

 private:
  struct statement_cache;

  // A cached statement in use: reset and its bindings cleared when done.
  class cursor {
   public:
    cursor(read_db& db, std::string_view sql);
    ~cursor();
    cursor(const cursor&) = delete;
    cursor& operator=(const cursor&) = delete;

    template <class T>
    void bind(const T& value) {
      bind_at(++index_, value);
    }
    bool step();
    template <class T>
    T column(int col) const {
      if constexpr (detail::is_sql_optional<T>::value) {
        if (is_null(col)) return T{};
        return T{column<typename T::value_type>(col)};
      } else if constexpr (std::is_same_v<T, bool>) {
        return column_int(col) != 0;
      } else if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(column_int(col));
      } else if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(column_real(col));
      } else {
        static_assert(std::is_same_v<T, std::string>, "a column reads as an integer, bool, floating point, "
                                                      "std::string or std::optional of one of them");
        return std::string{column_text(col)};
      }
    }
    template <class... Ts, std::size_t... I>
    std::tuple<Ts...> row(std::index_sequence<I...>) const {
      return std::tuple<Ts...>{column<Ts>(static_cast<int>(I))...};
    }

   private:
    template <class T>
    void bind_at(int i, const T& value) {
      if constexpr (std::is_same_v<T, std::nullopt_t>) {
        bind_null(i);
      } else if constexpr (detail::is_sql_optional<T>::value) {
        if (value) bind_at(i, *value);
        else bind_null(i);
      } else if constexpr (std::is_same_v<T, bool>) {
        bind_int(i, value ? 1 : 0);
      } else if constexpr (std::is_integral_v<T>) {
        bind_int(i, static_cast<std::int64_t>(value));  // an unsigned value above 2^63 - 1 wraps
      } else if constexpr (std::is_floating_point_v<T>) {
        bind_real(i, static_cast<double>(value));
      } else {
        bind_text(i, std::string_view{value});
      }
    }
    void check_index(int i);  // a parameter the statement has
    void bind_null(int i);
    void bind_int(int i, std::int64_t v);
    void bind_real(int i, double v);
    void bind_text(int i, std::string_view v);
    bool is_null(int col) const;
    std::int64_t column_int(int col) const;
    double column_real(int col) const;
    std::string_view column_text(int col) const;

    read_db& db_;
    detail::sql_statement* stmt_;
    std::string_view sql_;
    int index_ = 0;        // parameters bound so far
    bool checked_ = false;  // their count, against the statement's
  };

  std::int64_t changes() const;

  std::unique_ptr<detail::sql_connection> backend_;
  std::unique_ptr<statement_cache> cache_;
};

}  // namespace interlock
