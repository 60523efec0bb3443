// Unsigned positions and versions as SQLite's signed integers, and what a
// result code means. Internal to the SQLite journal.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace interlock::sqlite {

/// SQLite stores signed 64-bit integers; larger values mean "beyond anything stored".
inline std::int64_t to_int64(std::uint64_t value) {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(value, max));
}

/// Whether a result code of step() or exec() is an error (SQLITE_OK, _ROW and _DONE are not).
inline bool failed(int rc) { return rc != 0 && rc != 100 && rc != 101; }

}  // namespace interlock::sqlite
