// Valid text. Whatever the runtime and the journal store is valid UTF-8, so
// that every SQLite client reads it back as it was written (Python's sqlite3
// raises on a TEXT value that is not UTF-8, JSON parsers refuse it).
//
// Text that is not valid UTF-8 is refused where it enters (errc::invalid_argument
// naming the field), never escaped or replaced: escaping would store something
// other than what the code emitted (replay would hand back other bytes than
// the handler saw, silently), replacing with U+FFFD loses data, and a string
// of arbitrary bytes is a bug to fix in the code that made it (binary data
// belongs in base64 or a byte array, not in a std::string of text).
//
// Identifiers (aggregate types and ids, event types, command, correlation and
// causation ids) must also be 1 to 1024 bytes long (command, correlation and
// causation ids may be empty) and hold no NUL byte: a NUL ends the text for
// C clients (the sqlite3 shell shows "Account/ab" for "Account/ab\0cd"), so two
// ids would read back as one; 1024 bytes is far beyond any real id (a ULID is
// 26) and keeps one bad request from bloating every index the id is in.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace interlock::detail {

/// The offset of the first byte of `s` that does not begin a well-formed
/// UTF-8 sequence (RFC 3629: no overlong form, no surrogate U+D800..U+DFFF,
/// nothing above U+10FFFF, no sequence cut short), or npos if all of `s` is
/// valid. Runs of ASCII go 8 bytes at a time.
std::size_t utf8_error_at(std::string_view s) noexcept;

/// "byte 0xff at offset 3": an error utf8_error_at() found.
std::string describe_utf8_error(char byte, std::size_t offset);

inline constexpr std::size_t max_identifier_bytes = 1024;

/// Whether `value` can be an identifier (identifier_problem() says why not).
bool is_identifier(std::string_view value, bool may_be_empty = false) noexcept;

/// Why `value` cannot be the identifier `field` ("aggregate_id is not valid
/// UTF-8 (byte 0xff at offset 3)", "... is 2000 bytes long, ...", "... holds
/// a NUL byte at offset 4", "... is empty"), or "" if it can. The value
/// itself is not quoted: it may be the bad text.
std::string identifier_problem(std::string_view field, std::string_view value, bool may_be_empty = false);

}  // namespace interlock::detail
