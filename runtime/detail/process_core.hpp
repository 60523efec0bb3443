// What every event processor and saga object holds besides its own state:
// what its handler decided while it ran (commands, a deadline, completion).
// The runtime reads and clears it after each step. Internal; the user's API
// is runtime/processor.hpp and runtime/saga.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <interlock/core/type_name.hpp>
#include <interlock/runtime/detail/codec.hpp>

namespace interlock::detail {

struct process_access;

/// A command a handler dispatched, encoded.
struct decided_command {
  std::string command_type;
  std::string aggregate_id;
  std::string body;
};

class process_core {
 protected:
  /// Keeps a dispatched command, or the first refusal (`body` an error: its
  /// JSON could not be made), which fails the step once the handler returns.
  void record_dispatch(caf::expected<std::string> body, std::string_view command_type, std::string aggregate_id);
  /// record_dispatch() for `cmd`, encoded.
  template <class C>
  void record_command(std::string aggregate_id, const C& cmd) {
    record_dispatch(encode_text(cmd, [] { return "command " + std::string{type_name_of<C>()}; }), type_name_of<C>(),
                    std::move(aggregate_id));
  }
  /// Sagas: the deadline set (0 ms: cancelled) and the completion.
  void record_deadline(std::chrono::milliseconds after) { deadline_ = after; }
  void record_completion() { completed_ = true; }
  /// The conversation id of the saga instance running (a processor: "").
  const std::string& conversation() const noexcept { return key_; }

 private:
  friend struct process_access;
  std::vector<decided_command> decided_;
  caf::error refused_;
  std::optional<std::chrono::milliseconds> deadline_;
  bool completed_ = false;
  std::string key_;
};

}  // namespace interlock::detail
