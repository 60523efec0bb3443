// The SQLite journal's statement cache: every statement it runs more than once,
// compiled once per connection. Internal to the SQLite journal.
#pragma once

#include <interlock/persistence/sqlite_db.hpp>

namespace interlock::sqlite {

/// log2 of the span width of events_by_span (part of the format).
inline constexpr int span_shift = 12;

/// Why a batch's events (and the fold's runs) go in with one INSERT per 16 rows: every statement run
/// costs SQLite a program start, cursors opened and closed, and a halt; spread
/// over 16 rows that was 17% fewer instructions per row (raw SQLite, callgrind).
inline constexpr int events_per_insert = 16;
inline constexpr int columns_per_event = 11;

/// Why folded events are read by lists of 64 positions (`IN (?1, ..., ?64)`):
/// SQLite seeks each in order within one statement run, so a run's start and
/// halt are spread over 64 rows instead of paid per event.
inline constexpr int positions_per_read = 64;

struct statements {
  statement begin, commit, rollback, savepoint, release, rollback_to, data_version;
  statement sync_normal, sync_configured;  // PRAGMA synchronous for one commit, and back
  statement last_position, folded_mark, set_folded_mark;
  statement find_stream, insert_stream;
  statement run_at_or_before;  // a stream's run holding a version
  statement event_at;          // the stream and version at a position
  statement span_head;     // a stream's newest event within one span
  statement insert_event, insert_events;
  statement read_runs, read_stream_by_position, read_stream_by_position_lean, read_stream_range, read_stream_range_lean;
  statement read_span, read_span_lean, read_all, read_all_lean;
  statement fold_scan, fold_scan_copies, insert_run, insert_runs, insert_log_run, insert_log_copies;  // insert_runs: events_per_insert rows
  statement type_keys_of, find_type_key, insert_type_key, type_names;
  statement read_log_runs, read_log_by_position, read_log_by_position_lean, read_filtered_open;
  statement insert_snapshot, trim_snapshots, load_snapshot, insert_command, find_command;

  /// Compiles every statement for `db`, whose configured PRAGMA synchronous
  /// level is `synchronous`; SQLite's result code.
  int prepare(sqlite3* db, int synchronous);
};

/// Every event column of the reads, in the order reads expect them (see
/// event_reader.cpp); the lean form leaves the ids NULL.
inline constexpr int event_columns = 9;

}  // namespace interlock::sqlite
