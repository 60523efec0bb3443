// How the actors drive a user's aggregate type without knowing it: an
// aggregate_instance per live aggregate, made by its type's aggregate_kind.
// runtime/detail/aggregate_model.hpp implements both for a user's type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include <interlock/model/erased.hpp>
#include <interlock/model/event_binding.hpp>
#include <interlock/persistence/journal.hpp>

namespace interlock::detail {

/// What running a command produced: an error, or events to persist (with a
/// snapshot of the state after them when one is due) and a result.
struct command_outcome {
  static command_outcome failed(caf::error why) {
    command_outcome out;
    out.error = std::move(why);
    return out;
  }
  caf::error error;
  std::vector<event_record> events;
  std::shared_ptr<const void> result;
  std::optional<snapshot_record> snapshot;
  std::string result_json;  // for idempotent commands: the result, to return again on a retry
};

/// The runtime's snapshot defaults (runtime_settings), for aggregate types
/// that declare no policy of their own.
struct snapshot_settings {
  std::uint64_t every = 0;  // 0: never
  std::size_t keep = 2;
};

class aggregate_instance {
 public:
  virtual ~aggregate_instance() = default;
  /// Applies one stored event during recovery. Errors name stream, version and
  /// type. `more_of_same` marks the second and later events an upcaster split
  /// one stored event into (they share its stream version).
  virtual caf::error replay(const event_view& e, bool more_of_same = false) = 0;
  /// Runs the command handler. On success the events stay pending until
  /// apply_unstored() (the aggregate actor, before it stores them) or commit().
  virtual command_outcome execute(const erased_command& cmd) = 0;
  /// Applies the pending events once the journal has committed them.
  virtual caf::error commit() = 0;
  /// Applies the pending events before they are stored, so the next command
  /// runs on them; the caller rebuilds the state if they never are.
  virtual caf::error apply_unstored() = 0;
  virtual std::uint64_t version() const = 0;
  /// Replaces the state with a snapshot's; errc::schema_mismatch if it was
  /// written by another state_version, errc::corrupt_event if it does not decode.
  virtual caf::error restore(const snapshot_record& snap) = 0;
  /// A result stored by an idempotent command of type `command_type`, decoded.
  virtual caf::expected<std::shared_ptr<const void>> decode_result(const std::string& command_type,
                                                                  const std::string& json) const = 0;
  /// The state as JSON text, as a snapshot stores it (the debug console's
  /// view); errc::schema_mismatch if the type has no JSON form.
  virtual caf::expected<std::string> state_json() const = 0;
  /// Whether this aggregate writes (and so may load) snapshots.
  virtual bool snapshots_enabled() const = 0;
  /// How many snapshots its stream keeps.
  virtual std::size_t snapshots_kept() const = 0;
};

/// One registered aggregate type.
struct aggregate_kind {
  std::string type_name;
  std::string registration_error;  // non-empty: build() refuses the application with it
  std::vector<std::string> command_types;
  std::vector<event_binding> event_types;
  std::function<std::unique_ptr<aggregate_instance>(const std::string& id, const snapshot_settings& defaults)> make;
};

}  // namespace interlock::detail
