#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace interlock {

/// Per-command settings. Empty ids are filled in: command_id with a fresh ULID,
/// correlation_id with the command id (a command that starts a conversation).
/// A command_id chosen by the caller is an idempotency key: it is recorded
/// with the command's events, and a command dispatched again with it returns
/// the first outcome (receipt and result) instead of running again - also
/// after a restart. Its result type must then be JSON-serialisable.
struct dispatch_options {
  std::string command_id{};
  std::string correlation_id{};
  std::string causation_id{};
  std::chrono::milliseconds timeout{30'000};
};

/// Per-query settings. `after` gives read-your-writes: the projection answers
/// once it has applied that global position (pass receipt.position).
struct query_options {
  std::uint64_t after = 0;
  std::chrono::milliseconds timeout{30'000};
};

}  // namespace interlock
