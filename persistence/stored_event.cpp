#include <interlock/persistence/stored_event.hpp>

#include <interlock/core/errors.hpp>

namespace interlock::detail {

std::string describe_event(const event_view& e) {
  std::string out = "stream ";
  out.append(e.aggregate_type).append("/").append(e.aggregate_id);
  out.append(" version ").append(std::to_string(e.version)).append(" type ").append(e.event_type);
  return out;
}

caf::error version_break(const event_view& e, std::uint64_t expected) {
  auto why = describe_event(e) + " at position " + std::to_string(e.position) + ": expected version " +
             std::to_string(expected);
  if (e.version < expected) why += " (version " + std::to_string(e.version) + " appears twice)";
  else if (e.version == expected + 1) why += " (version " + std::to_string(expected) + " is missing)";
  else why += " (versions " + std::to_string(expected) + " to " + std::to_string(e.version - 1) + " are missing)";
  return make_error(errc::corrupt_event, std::move(why));
}

void fill_envelope(const event_view& v, event_envelope& out) {
  out.position = v.position;
  out.aggregate_type.assign(v.aggregate_type);
  out.aggregate_id.assign(v.aggregate_id);
  out.version = v.version;
  out.event_type.assign(v.event_type);
  out.schema_version = v.schema_version;
  out.recorded_at_us = v.recorded_at_us;
  out.command_id.assign(v.command_id);
  out.correlation_id.assign(v.correlation_id);
  out.causation_id.assign(v.causation_id);
}

}  // namespace interlock::detail
