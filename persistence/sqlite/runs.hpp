// The packed positions of stream_runs and log_runs (schema.cpp): the events
// of one row all lie in one span of 4,096 positions, so each is stored as its
// 12-bit offset in the span, 2 bytes little-endian. Internal to the SQLite journal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <interlock/persistence/sqlite/statements.hpp>

namespace interlock::sqlite {

inline constexpr std::uint64_t span_mask = (std::uint64_t{1} << span_shift) - 1;

inline std::uint64_t span_of(std::uint64_t position) { return position >> span_shift; }

/// Appends `position`'s offset in its span to `offsets`.
inline void append_offset(std::string& offsets, std::uint64_t position) {
  const auto offset = position & span_mask;
  offsets.push_back(static_cast<char>(offset & 0xff));
  offsets.push_back(static_cast<char>(offset >> 8));
}

/// How many positions `offsets` holds.
inline std::size_t run_length(std::string_view offsets) { return offsets.size() / 2; }

/// The i-th position of a row of span `span`.
inline std::uint64_t position_in_run(std::string_view offsets, std::uint64_t span, std::size_t i) {
  const auto low = static_cast<unsigned char>(offsets[2 * i]);
  const auto high = static_cast<unsigned char>(offsets[2 * i + 1]);
  return (span << span_shift) | ((static_cast<std::uint64_t>(high) << 8 | low) & span_mask);
}

}  // namespace interlock::sqlite
