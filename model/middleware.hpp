// Command middleware: an ordered pipeline around every command.
//
//   builder.use(interlock::logging_middleware());
//   builder.use(std::make_shared<MyTenantCheck>());
//
// before() runs in registration order before the command is routed to its
// aggregate; it may enrich the envelope (ids) and pass on (return nullopt), or
// short-circuit: the command_result it returns is the reply and the command
// does not run - an error, or a success (a command whose type declares a
// result other than void then gets errc::invalid_argument: no result can be
// made up for it). after() runs
// in reverse order once the reply is known (short-circuits included), with
// the outcome and the time since the first before(). All middleware of an
// application runs on one actor, one call at a time: no locking needed, but
// keep it quick (no blocking I/O).
//
// The runtime's own stages need no registration: idempotency keys
// (dispatch_options::command_id), retry on conflict (runtime_settings::
// conflict_retries) and context propagation (correlation and causation ids
// stored with every event; caused_by() in context.hpp for event processors).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/error.hpp>

#include <interlock/core/log.hpp>

namespace interlock {

/// What middleware sees of a command; the ids may be changed in before().
struct command_envelope {
  std::string command_type;
  std::string aggregate_type;
  std::string aggregate_id;
  std::string command_id;
  std::string correlation_id;
  std::string causation_id;
};

/// How a command ended: an error, or where its events landed.
struct command_result {
  caf::error error;
  std::uint64_t position = 0;  // last event's global position (0: no events)
  std::uint64_t version = 0;   // the aggregate's version after the command
  std::size_t events = 0;
};

class command_middleware {
 public:
  virtual ~command_middleware() = default;
  /// Before the command: change `cmd`'s ids and pass on (nullopt), or reply in its place.
  virtual std::optional<command_result> before(command_envelope& cmd) {
    (void)cmd;
    return std::nullopt;
  }
  /// After the reply is known.
  virtual void after(const command_envelope& cmd, const command_result& result, std::chrono::microseconds took) {
    (void)cmd, (void)result, (void)took;
  }
};

/// Logs one line per command at `level` (failures at warning): type,
/// aggregate, outcome, duration, command and correlation ids.
std::shared_ptr<command_middleware> logging_middleware(log_level level = log_level::info);

}  // namespace interlock
