#include <interlock/core/detail/utf8.hpp>

#include <bit>
#include <cstdint>
#include <cstring>

namespace interlock::detail {
namespace {

constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the well-formed sequence at `p` (whose lead byte is not
// ASCII; `left` bytes remain), 0 if it is not one. The second byte's range
// is what rules out overlong forms, surrogates and code points past U+10FFFF
// (the Unicode standard's table 3-7).
std::size_t sequence_length(const unsigned char* p, std::size_t left) {
  const unsigned char lead = p[0];
  if (lead < 0xC2) return 0;  // a continuation byte, or C0/C1 (overlong)
  if (lead < 0xE0) return left >= 2 && continuation(p[1]) ? 2 : 0;
  if (lead < 0xF0) {
    if (left < 3 || !continuation(p[2])) return 0;
    const unsigned char lo = lead == 0xE0 ? 0xA0 : 0x80, hi = lead == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 3 : 0;
  }
  if (lead > 0xF4 || left < 4 || !continuation(p[2]) || !continuation(p[3])) return 0;
  const unsigned char lo = lead == 0xF0 ? 0x90 : 0x80, hi = lead == 0xF4 ? 0x8F : 0xBF;
  return p[1] >= lo && p[1] <= hi ? 4 : 0;
}

std::uint64_t load64(const unsigned char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

std::uint32_t load32(const unsigned char* p) {
  std::uint32_t word;
  std::memcpy(&word, p, 4);
  return word;
}

// Where the first byte of p[0, n) with its high bit set may be: n if there
// is none (all ASCII, the common case), else an offset at or before it. A
// word at a time; the last word overlaps the one before it, so no text
// ends in a byte-by-byte loop.
std::size_t ascii_prefix(const unsigned char* p, std::size_t n) {
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 <= n; i += 8)
      if (load64(p + i) & high_bits) return i;
    return (load64(p + n - 8) & high_bits) ? n - 8 : n;
  }
  if (n >= 4) return ((load32(p) | load32(p + n - 4)) & 0x80808080u) ? 0 : n;
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] >= 0x80) return i;
  return n;
}

// Whether p[0, n) is all ASCII without NUL, as most ids are: one test per
// word for both (a byte with its high bit set, or a zero byte, sets the high
// bit of its lane in `w | (w - ones) & ~w`), the last word overlapping.
bool plain_ascii(const unsigned char* p, std::size_t n) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  const auto clean = [](std::uint64_t w) { return ((w | ((w - ones) & ~w)) & high_bits) == 0; };
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 <= n; i += 8)
      if (!clean(load64(p + i))) return false;
    return clean(load64(p + n - 8));
  }
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] == 0 || p[i] >= 0x80) return false;
  return true;
}

}  // namespace

std::size_t utf8_error_at(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = ascii_prefix(p, n);
  while (i < n) {
    if (n - i >= 8) {
      const auto word = load64(p + i);
      if ((word & high_bits) == 0) {
        i += 8;
        continue;
      }
      // Straight to the first byte with its high bit set.
      if constexpr (std::endian::native == std::endian::little) i += std::countr_zero(word & high_bits) / 8;
    }
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const auto length = sequence_length(p + i, n - i);
    if (length == 0) return i;
    i += length;
  }
  return std::string_view::npos;
}

std::string describe_utf8_error(char byte, std::size_t offset) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto b = static_cast<unsigned char>(byte);
  const char value[] = {'0', 'x', hex[b >> 4], hex[b & 15]};
  std::string out = "byte ";
  out.append(value, sizeof value).append(" at offset ").append(std::to_string(offset));
  return out;
}

bool is_identifier(std::string_view value, bool may_be_empty) noexcept {
  if (value.empty()) return may_be_empty;
  if (value.size() > max_identifier_bytes) return false;
  if (plain_ascii(reinterpret_cast<const unsigned char*>(value.data()), value.size())) return true;
  return utf8_error_at(value) == std::string_view::npos && std::memchr(value.data(), 0, value.size()) == nullptr;
}

std::string identifier_problem(std::string_view field, std::string_view value, bool may_be_empty) {
  if (is_identifier(value, may_be_empty)) return {};
  const auto name = [&] { return std::string{field}; };
  if (value.empty()) return name() + " is empty";
  if (value.size() > max_identifier_bytes)
    return name() + " is " + std::to_string(value.size()) + " bytes long; at most " +
           std::to_string(max_identifier_bytes) + " are allowed";
  if (auto at = utf8_error_at(value); at != std::string_view::npos)
    return name() + " is not valid UTF-8 (" + describe_utf8_error(value[at], at) + ")";
  if (auto nul = value.find('\0'); nul != std::string_view::npos)
    return name() + " holds a NUL byte at offset " + std::to_string(nul);
  return {};
}

}  // namespace interlock::detail
