#include <interlock/persistence/event_chunk.hpp>

namespace interlock {

event_chunk::text event_chunk::keep(std::string_view s) {
  text t{bytes_.size(), s.size()};
  bytes_.append(s);
  return t;
}

void event_chunk::add(const event_view& v) {
  row r;
  r.position = v.position;
  r.version = v.version;
  r.recorded_at_us = v.recorded_at_us;
  r.schema_version = v.schema_version;
  r.aggregate_type = keep(v.aggregate_type);
  r.aggregate_id = keep(v.aggregate_id);
  r.event_type = keep(v.event_type);
  r.payload = keep(v.payload);
  r.command_id = keep(v.command_id);
  r.correlation_id = keep(v.correlation_id);
  r.causation_id = keep(v.causation_id);
  rows_.push_back(r);
}

event_view event_chunk::view(std::size_t i) const {
  const auto& r = rows_[i];
  event_view v;
  v.position = r.position;
  v.aggregate_type = text_of(r.aggregate_type);
  v.aggregate_id = text_of(r.aggregate_id);
  v.version = r.version;
  v.event_type = text_of(r.event_type);
  v.schema_version = r.schema_version;
  v.payload = text_of(r.payload);
  v.recorded_at_us = r.recorded_at_us;
  v.command_id = text_of(r.command_id);
  v.correlation_id = text_of(r.correlation_id);
  v.causation_id = text_of(r.causation_id);
  return v;
}

}  // namespace interlock
