// Internal helpers shared by the journal implementations, so that every
// journal rejects the same requests with the same errc and message text.
// Not part of the public API.
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include <interlock/persistence/journal.hpp>

namespace interlock::detail {

/// An errc::invalid_argument naming the field that cannot name a stream
/// (empty, not valid UTF-8, longer than 1024 bytes, holding a NUL: see
/// runtime/detail/utf8.hpp), or no error.
caf::error validate_stream_name(const std::string& aggregate_type, const std::string& aggregate_id);

/// An errc::invalid_argument if `req` could never be appended (a bad stream
/// name, no events without record_command, an event without a type, an id,
/// command type or event type that is not a valid identifier, JSON or a
/// refusal message that is not valid UTF-8 or holds a NUL byte, a schema or
/// state version above INT32_MAX, a refusal with events, a snapshot or a result, or one
/// that is not an interlock error, ...), or no error.
caf::error validate(const append_request& req);

/// The errc::conflict for `req` when its stream is at `actual_version`.
caf::error conflict(const append_request& req, std::uint64_t actual_version);

/// The errc::conflict for an after_previous request whose chain is broken.
caf::error previous_failed(const append_request& req);

/// The errc::conflict for a request whose command id was recorded before.
caf::error command_seen(const append_request& req);

/// Where `req` lands when its first event takes `first_position` and its batch
/// commits at `now`. A request without events (a recorded command alone)
/// takes no position: first and last are 0, last_version its expected version.
append_result landing(const append_request& req, std::uint64_t first_position, std::int64_t now);

/// What find_command() gives for `req` (recorded) once committed as `res`.
command_record command_of(const append_request& req, const append_result& res);

/// "Type/id", as errors name a stream.
std::string stream_name(const std::string& aggregate_type, const std::string& aggregate_id);

/// Wall-clock time in microseconds since the Unix epoch (UTC).
std::int64_t now_us();

}  // namespace interlock::detail
