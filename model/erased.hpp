// Commands, queries and their replies with the concrete type erased, as they
// travel between the application, the router and the actors. The body points
// to the typed value (local fast path: no encoding between actors).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>

#include <caf/fwd.hpp>

namespace interlock::detail {

struct erased_command {
  std::string aggregate_type;
  std::string aggregate_id;
  std::string command_type;
  std::shared_ptr<const void> body;
  const std::type_info* body_type = nullptr;  // checked before the body is cast
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::string command_id;
  std::string correlation_id;
  std::string causation_id;
  bool idempotent = false;  // the caller chose command_id: a retry returns the first outcome
  bool through_middleware = false;  // the router has run the middleware pipeline on it
  bool counted = false;  // an aggregate_directory counts it until the router has passed it on
};

/// "command T to Type/id", as errors name a command (one allocation:
/// it is built for every command sent).
inline std::string describe_command(const erased_command& cmd) {
  constexpr std::string_view command = "command ", to = " to ";
  std::string out;
  out.reserve(command.size() + cmd.command_type.size() + to.size() + cmd.aggregate_type.size() + 1 +
              cmd.aggregate_id.size());
  out.append(command).append(cmd.command_type).append(to).append(cmd.aggregate_type).append(1, '/');
  out.append(cmd.aggregate_id);
  return out;
}

/// Refuses (errc::invalid_argument) a command whose ids the journal could
/// not store: an empty aggregate id, or an id that is not an identifier
/// (utf8.hpp: valid UTF-8, at most 1024 bytes, no NUL). Checked where a
/// command is sent and where it passes the router (after middleware).
caf::error check_ids(const erased_command& cmd);

struct erased_reply {
  std::string aggregate_id;
  std::uint64_t position = 0;
  std::uint64_t version = 0;
  std::size_t events = 0;
  std::shared_ptr<const void> result;  // R for command<R>, null for void
};

struct erased_query {
  std::string query_type;
  std::shared_ptr<const void> body;
  const std::type_info* body_type = nullptr;
  std::uint64_t after = 0;  // answer only once the projection has applied this position
  std::chrono::milliseconds timeout{0};
};

struct erased_answer {
  std::shared_ptr<const void> result;
  std::uint64_t position = 0;  // the projection's position when it answered
};

}  // namespace interlock::detail
