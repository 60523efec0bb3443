#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace interlock {

/// A ULID: 48-bit millisecond timestamp + 80 random bits, printed as 26
/// characters of Crockford base32. Ids generated later sort after earlier ones;
/// within one millisecond a process increments the random part, so its ids are
/// strictly increasing.
class ulid {
 public:
  static ulid generate();
  /// Parses 26 Crockford base32 characters (case-insensitive; I/L read as 1, O as 0).
  static std::optional<ulid> parse(std::string_view text);

  std::string to_string() const;
  std::chrono::system_clock::time_point timestamp() const;
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }

  friend bool operator==(const ulid&, const ulid&) = default;
  friend auto operator<=>(const ulid&, const ulid&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

/// A fresh ULID as text: the default aggregate and command id.
std::string new_id();

}  // namespace interlock
