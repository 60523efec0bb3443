// The PostgreSQL journal's SQL, written once per journal for its schema.
// Internal to the PostgreSQL journal.
#pragma once

#include <string>

namespace interlock::postgres {

/// The columns read_stream returns, in this order (both kinds of read end
/// with the same six, from schema_version on).
enum event_column : int {
  col_position, col_aggregate_type, col_aggregate_id, col_version, col_event_type, col_schema_version,
  col_payload, col_recorded_at_us, col_command_id, col_correlation_id, col_causation_id
};

/// The columns a log read (read_all, read_range_of_types, read_positions) returns, in this order:
/// keys where the names would be (name_cache.hpp).
enum log_column : int {
  log_position, log_stream_key, log_version, log_type_key, log_schema_version, log_payload, log_recorded_at_us,
  log_command_id, log_correlation_id, log_causation_id
};

struct statements {
  // -- appends (event_writer.cpp) --
  std::string lock_head;        // locks the counter row: the last position
  std::string lock_head_now;    // the same, or fails at once (lock_not_available) if another holds it
  std::string stream_versions;  // ($1 types[], $2 ids[]) -> type, id, key (or NULL), version
  std::string type_keys;        // ($1 aggregate types[], $2 event types[]) -> the pairs that have a key, their key
  std::string last_keys;        // -> the highest stream key and type key handed out
  std::string insert_streams;   // ($1 keys[], $2 types[], $3 ids[])
  std::string insert_types;     // ($1 keys[], $2 aggregate types[], $3 event types[])
  std::string commands_seen;    // ($1 ids[]) -> the ones recorded
  std::string insert_events;    // advances the counter row and inserts the batch's events
  std::string insert_snapshots;
  std::string trim_snapshots;
  std::string insert_commands;
  std::string notify_head;      // tells the schema's channel the counter row's value: delivered at COMMIT
  // -- reads (event_reader.cpp) --
  std::string read_stream;
  std::string read_all;
  std::string filtered_positions;   // ($1 from, $2 aggregate types[], $3 event types[], $4 limit) -> position, type key
  std::string read_range_of_types;  // ($1 first, $2 last, $3 type keys[]): log rows
  std::string read_positions;       // ($1 positions[]): log rows
  std::string stream_names;  // ($1 stream keys[]) -> key, aggregate type, aggregate id
  std::string type_names;    // ($1 type keys[]) -> key, aggregate type, event type
  std::string last_position;
  std::string stream_version;
  std::string load_snapshot;
  std::string find_command;
  // -- watching (head_watch.cpp) --
  std::string listen;  // the schema's channel, where notify_head tells
};

/// The statements of a journal in `schema` (a valid schema name).
statements make_statements(const std::string& schema);

}  // namespace interlock::postgres
