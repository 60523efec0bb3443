#include <interlock/persistence/postgres/result.hpp>

#include <charconv>
#include <string_view>

#include <libpq-fe.h>

namespace interlock::postgres {

result::~result() {
  if (r_) PQclear(r_);
}

result& result::operator=(result&& other) noexcept {
  if (this != &other) {
    if (r_) PQclear(r_);
    r_ = other.r_;
    other.r_ = nullptr;
  }
  return *this;
}

std::int64_t result::affected() const {
  if (!r_) return 0;
  const std::string_view n = PQcmdTuples(r_);
  std::int64_t out = 0;
  std::from_chars(n.data(), n.data() + n.size(), out);
  return out;
}

int result::rows() const { return r_ ? PQntuples(r_) : 0; }

int result::columns() const { return r_ ? PQnfields(r_) : 0; }

bool result::is_null(int row, int column) const { return PQgetisnull(r_, row, column) != 0; }

std::string_view result::text(int row, int column) const {
  return {PQgetvalue(r_, row, column), static_cast<std::size_t>(PQgetlength(r_, row, column))};
}

std::int64_t result::int64(int row, int column) const {
  const auto value = text(row, column);
  std::int64_t out = 0;
  std::from_chars(value.data(), value.data() + value.size(), out);
  return out;
}

}  // namespace interlock::postgres
