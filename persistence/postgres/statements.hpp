// The PostgreSQL journal's SQL, written once per journal for its schema.
// Internal to the PostgreSQL journal.
#pragma once

#include <string>

namespace interlock::postgres {

/// The columns every event read returns, in this order.
enum event_column : int {
  col_position, col_aggregate_type, col_aggregate_id, col_version, col_event_type, col_schema_version,
  col_payload, col_recorded_at_us, col_command_id, col_correlation_id, col_causation_id
};

struct statements {
  // -- appends (event_writer.cpp) --
  std::string lock_head;        // locks the counter row: the last position
  std::string lock_head_now;    // the same, or fails at once (lock_not_available) if another holds it
  std::string stream_versions;  // ($1 types[], $2 ids[]) -> type, id, version
  std::string commands_seen;    // ($1 ids[]) -> the ones recorded
  std::string insert_events;    // advances the counter row and inserts the batch's events
  std::string insert_snapshots;
  std::string trim_snapshots;
  std::string insert_commands;
  std::string notify_head;      // tells the schema's channel the counter row's value: delivered at COMMIT
  // -- reads (event_reader.cpp) --
  std::string read_stream;
  std::string read_all;
  std::string read_filtered;
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
