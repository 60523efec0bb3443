// Empty journal files of the formats before the current one, with the tables
// those builds created: for the upgrade tests, which then insert rows by SQL.
#pragma once

#include <string>

#include "raw_db.hpp"

namespace testing_support {

// The same in formats 1 to 6 (format 7 names a command's stream instead).
inline constexpr const char* snapshot_and_command_tables =
    "CREATE TABLE snapshots (stream_key INTEGER NOT NULL REFERENCES streams, version INTEGER NOT NULL,"
    " state_version INTEGER NOT NULL, state TEXT NOT NULL, recorded_at INTEGER NOT NULL,"
    " PRIMARY KEY (stream_key, version)) WITHOUT ROWID;"
    "CREATE TABLE commands (command_id TEXT PRIMARY KEY, stream_key INTEGER NOT NULL REFERENCES streams,"
    " first_position INTEGER NOT NULL, last_position INTEGER NOT NULL, last_version INTEGER NOT NULL,"
    " result TEXT NOT NULL) WITHOUT ROWID;";

// Format 1: one UNIQUE (stream_key, version) over all events; ids in full.
// Formats 2-4: streams carry first and last positions, events are indexed by
// span; 3 and 4 keep a heads mark; 4 stores a correlation equal to the
// command id as NULL (as the current format does).
inline void create_old_journal(const std::string& path, int format) {
  raw_db db{path};
  const bool spans = format >= 2;
  db.exec(std::string{"PRAGMA journal_mode = WAL;"
                      "CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value);"
                      "INSERT INTO journal_meta VALUES ('format_version', "} +
          std::to_string(format) + ");" + (format >= 3 ? "INSERT INTO journal_meta VALUES ('heads_position', 0);" : "") +
          "CREATE TABLE streams (stream_key INTEGER PRIMARY KEY, aggregate_type TEXT NOT NULL,"
          " aggregate_id TEXT NOT NULL, version INTEGER NOT NULL," +
          (spans ? " first_position INTEGER NOT NULL, last_position INTEGER NOT NULL," : "") +
          " UNIQUE (aggregate_type, aggregate_id));"
          "CREATE TABLE events (global_position INTEGER PRIMARY KEY, stream_key INTEGER NOT NULL REFERENCES streams,"
          " version INTEGER NOT NULL, event_type TEXT NOT NULL, schema_version INTEGER NOT NULL,"
          " payload TEXT NOT NULL, recorded_at INTEGER NOT NULL, command_id TEXT, correlation_id TEXT,"
          " causation_id TEXT" +
          (spans ? ");CREATE UNIQUE INDEX events_by_span ON events (global_position >> 12, stream_key, version);"
                 : ", UNIQUE (stream_key, version));") +
          snapshot_and_command_tables);
}

// Format 5: a row per folded event in stream_index (stream, version ->
// position) and in log_index (type key, position), a folded mark, and the
// pair of types' key in every event row.
inline void create_format_5_journal(const std::string& path) {
  raw_db{path}.exec(std::string{
      "PRAGMA journal_mode = WAL;"
      "CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value);"
      "INSERT INTO journal_meta VALUES ('format_version', 5), ('folded_position', 0);"
      "CREATE TABLE streams (stream_key INTEGER PRIMARY KEY, aggregate_type TEXT NOT NULL,"
      " aggregate_id TEXT NOT NULL, first_position INTEGER NOT NULL, UNIQUE (aggregate_type, aggregate_id));"
      "CREATE TABLE events (global_position INTEGER PRIMARY KEY, stream_key INTEGER NOT NULL REFERENCES streams,"
      " version INTEGER NOT NULL, event_type TEXT NOT NULL, schema_version INTEGER NOT NULL,"
      " payload TEXT NOT NULL, recorded_at INTEGER NOT NULL, command_id TEXT, correlation_id TEXT,"
      " causation_id TEXT, type_key INTEGER NOT NULL);"
      "CREATE UNIQUE INDEX events_by_span ON events (global_position >> 12, stream_key, version);"
      "CREATE TABLE stream_index (stream_key INTEGER NOT NULL, version INTEGER NOT NULL,"
      " global_position INTEGER NOT NULL, PRIMARY KEY (stream_key, version)) WITHOUT ROWID;"
      "CREATE TABLE type_keys (type_key INTEGER PRIMARY KEY, aggregate_type TEXT NOT NULL,"
      " event_type TEXT NOT NULL, UNIQUE (aggregate_type, event_type));"
      "CREATE TABLE log_index (type_key INTEGER NOT NULL, global_position INTEGER NOT NULL,"
      " PRIMARY KEY (type_key, global_position)) WITHOUT ROWID;"}
                        .append(snapshot_and_command_tables));
}

// Format 6: the folded events in runs, a row per stream and span in
// stream_runs and per pair of types and span in log_runs (the current
// format's tables but for commands, which reference streams).
inline void create_format_6_journal(const std::string& path) {
  raw_db{path}.exec(std::string{
      "PRAGMA journal_mode = WAL;"
      "CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value);"
      "INSERT INTO journal_meta VALUES ('format_version', 6), ('folded_position', 0);"
      "CREATE TABLE streams (stream_key INTEGER PRIMARY KEY, aggregate_type TEXT NOT NULL,"
      " aggregate_id TEXT NOT NULL, first_position INTEGER NOT NULL, UNIQUE (aggregate_type, aggregate_id));"
      "CREATE TABLE events (global_position INTEGER PRIMARY KEY, stream_key INTEGER NOT NULL REFERENCES streams,"
      " version INTEGER NOT NULL, event_type TEXT NOT NULL, schema_version INTEGER NOT NULL,"
      " payload TEXT NOT NULL, recorded_at INTEGER NOT NULL, command_id TEXT, correlation_id TEXT,"
      " causation_id TEXT, type_key INTEGER NOT NULL);"
      "CREATE UNIQUE INDEX events_by_span ON events (global_position >> 12, stream_key, version);"
      "CREATE TABLE stream_runs (stream_key INTEGER NOT NULL, first_version INTEGER NOT NULL,"
      " span INTEGER NOT NULL, offsets BLOB NOT NULL, PRIMARY KEY (stream_key, first_version)) WITHOUT ROWID;"
      "CREATE TABLE type_keys (type_key INTEGER PRIMARY KEY, aggregate_type TEXT NOT NULL,"
      " event_type TEXT NOT NULL, UNIQUE (aggregate_type, event_type));"
      "CREATE TABLE log_runs (type_key INTEGER NOT NULL, first_position INTEGER NOT NULL,"
      " offsets BLOB NOT NULL, PRIMARY KEY (type_key, first_position)) WITHOUT ROWID;"}
                        .append(snapshot_and_command_tables));
}

}  // namespace testing_support
