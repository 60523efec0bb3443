// A statement's parameters for the PostgreSQL wrapper, all sent in text
// format: the SQL casts them ($1::bigint, $2::text[]). A batch of rows goes
// as one array parameter per column (array_literal), unnested by the
// statement: one statement for a batch, whatever its size.
// Internal to the PostgreSQL journal and read store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace interlock::postgres {

/// The parameters of one statement, in order ($1, $2, ...). Values are copied.
class params {
 public:
  params& text(std::string_view value);
  params& int64(std::int64_t value);
  params& null();
  std::size_t size() const { return values_.size(); }
  /// The values as libpq takes them (nullptr for NULL); valid while this
  /// object lives unchanged.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
};

/// A one-dimensional array in PostgreSQL's text form, {"a","b",NULL}, built
/// element by element: the value of a $n::text[] (or ::bigint[]) parameter.
class array_literal {
 public:
  array_literal() { text_ = "{"; }
  array_literal& add(std::string_view element);  // quoted, with " and \ escaped
  array_literal& add(std::int64_t element);
  array_literal& add_null();
  std::size_t size() const { return count_; }
  /// The literal, closed ("{...}").
  std::string str() const { return text_ + "}"; }

 private:
  void separate();
  std::string text_;
  std::size_t count_ = 0;
};

/// One statement of a pipeline: its SQL and its parameters. With a `name`,
/// a prepared statement: `sql` prepares it under that name (the parameters'
/// types left to the server; `args` unused), an empty `sql` runs it with `args`.
struct query {
  std::string sql;
  params args{};
  std::string name{};
};

}  // namespace interlock::postgres
