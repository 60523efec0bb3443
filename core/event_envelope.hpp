#pragma once

#include <cstdint>
#include <string>

namespace interlock {

/// Everything the journal records about an event besides its payload. Event
/// handlers in projections may take it as a second argument.
struct event_envelope {
  std::uint64_t position = 0;      // global, gapless, 1-based; assigned at commit
  std::string aggregate_type;      // e.g. "BankAccount"
  std::string aggregate_id;        // the stream id within its aggregate type
  std::uint64_t version = 0;       // 1-based position within the stream
  std::string event_type;          // stable type name, e.g. "MoneyDeposited"
  std::uint32_t schema_version = 1;
  std::int64_t recorded_at_us = 0; // commit time, microseconds since the Unix epoch, UTC
  std::string command_id;          // the command that emitted the event
  std::string correlation_id;      // the conversation it belongs to
  std::string causation_id;        // what caused the command (a command or event id)

  /// "BankAccount/01J..." - how errors and logs name a stream.
  std::string stream_name() const { return aggregate_type + "/" + aggregate_id; }
};

}  // namespace interlock
