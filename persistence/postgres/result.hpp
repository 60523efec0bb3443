// The rows a PostgreSQL statement returned (an owned PGresult), read as text.
// Internal to the PostgreSQL journal and read store.
#pragma once

#include <cstdint>
#include <string_view>

struct pg_result;  // libpq's PGresult: libpq-fe.h stays out of the headers

namespace interlock::postgres {

class result {
 public:
  result() = default;
  explicit result(pg_result* r) : r_(r) {}
  ~result();
  result(result&& other) noexcept : r_(other.r_) { other.r_ = nullptr; }
  result& operator=(result&& other) noexcept;
  result(const result&) = delete;
  result& operator=(const result&) = delete;

  pg_result* get() const { return r_; }
  int rows() const;
  int columns() const;
  /// The rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;
  bool is_null(int row, int column) const;
  /// The value as text ("" for NULL); valid while this result lives.
  std::string_view text(int row, int column) const;
  /// The value as an integer; 0 for NULL or text that is not one.
  std::int64_t int64(int row, int column) const;

 private:
  pg_result* r_ = nullptr;
};

}  // namespace interlock::postgres
