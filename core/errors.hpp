// Errors are values: every failure that crosses an actor boundary is a
// caf::error in the "interlock" category, carrying an errc and a message that
// names what went wrong (stream, version, type, field).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <caf/error.hpp>

namespace interlock {

enum class errc : std::uint8_t {
  rejected = 1,        // a command handler refused the command (threw or returned an error)
  conflict,            // optimistic concurrency: the stream is not at the expected version
  unknown_command,     // no registered aggregate handles this command type
  unknown_query,       // no registered projection answers this query type
  unknown_event_type,  // the journal holds an event type no handler knows how to decode
  corrupt_event,       // a stored payload does not decode into its declared type
  schema_mismatch,     // a stored event's schema version is not the one the code reads
  storage,             // the database failed (cannot open, I/O error, disk full, ...)
  timeout,             // no reply in time
  invalid_argument,    // bad input from the caller (empty id, bad option, ...)
  unavailable,         // the component is stopped or failed and cannot serve
};

/// The error category atom CAF uses to tell interlock errors apart.
caf::atom_value error_category();

/// An interlock error: `errc` plus a human-readable message.
caf::error make_error(errc code, std::string message);

/// The errc of an interlock error; nullopt for errors of other categories.
std::optional<errc> code_of(const caf::error& err);

/// True when `err` is an interlock error with this code.
inline bool is(const caf::error& err, errc code) { return code_of(err) == code; }

/// The message carried by an interlock error ("" if none).
std::string message_of(const caf::error& err);

/// One line for logs and users: "rejected: Amount must be positive". Works for
/// CAF's own errors too (e.g. "system_error: request_timeout").
std::string describe(const caf::error& err);

const char* to_string(errc code);

namespace detail {
/// Turns CAF's transport errors (request_timeout, request_receiver_down, ...)
/// into interlock errors that say what was asked; interlock errors pass as they are.
/// With `may_commit`, a timeout says the outcome is unknown (a command may
/// still commit after its caller stopped waiting).
caf::error explain_transport_error(caf::error err, const std::string& what, std::chrono::milliseconds timeout,
                                   bool may_commit = false);
}  // namespace detail

}  // namespace interlock
