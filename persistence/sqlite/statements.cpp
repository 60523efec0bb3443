#include <interlock/persistence/sqlite/statements.hpp>

#include <string>
#include <utility>

#include <sqlite3.h>

namespace interlock::sqlite {
namespace {

// The columns of every read. A correlation id stored as NULL is the command id
// (see schema.cpp); the lean form leaves the ids out: each column SQLite does
// not extract is time saved on every event of a recovery or catch-up.
#define INTERLOCK_EVENT_COLUMNS_BUT_IDS \
  "e.global_position, e.version, e.event_type, e.schema_version, e.payload, e.recorded_at, "
#define INTERLOCK_EVENT_COLUMNS \
  INTERLOCK_EVENT_COLUMNS_BUT_IDS "e.command_id, coalesce(e.correlation_id, e.command_id), e.causation_id"
#define INTERLOCK_EVENT_COLUMNS_LEAN INTERLOCK_EVENT_COLUMNS_BUT_IDS "NULL, NULL, NULL"

// One span of positions (the expression must match the index's for SQLite to use it).
#define INTERLOCK_READ_SPAN                                                                        \
  " FROM events e WHERE (e.global_position >> 12) = ?1 AND e.stream_key = ?2 AND e.version >= ?3" \
  " ORDER BY e.version LIMIT ?4"
// Events by position: a list of ?1..?N (read_by_position), bound NULL where unused.
#define INTERLOCK_BY_POSITION " WHERE e.global_position IN ("
#define INTERLOCK_IN_ORDER ") ORDER BY e.global_position"
#define INTERLOCK_WITH_STREAM ", s.aggregate_type, s.aggregate_id FROM events e JOIN streams s ON s.stream_key = e.stream_key"
// The part after the folded mark: the events themselves, filtered (a NULL
// list lets every value through).
#define INTERLOCK_READ_OPEN_FILTERED                                                           \
  ", s.aggregate_type, s.aggregate_id"                                                         \
  " FROM events e JOIN streams s ON s.stream_key = e.stream_key WHERE e.global_position >= ?1" \
  " AND (?2 IS NULL OR e.event_type IN (SELECT value FROM json_each(?2)))"                     \
  " AND (?3 IS NULL OR s.aggregate_type IN (SELECT value FROM json_each(?3)))"                 \
  " ORDER BY e.global_position LIMIT ?4"
#define INTERLOCK_READ_ALL                                       \
  ", s.aggregate_type, s.aggregate_id"                           \
  " FROM events e JOIN streams s ON s.stream_key = e.stream_key" \
  " WHERE e.global_position >= ?1 ORDER BY e.global_position LIMIT ?2"

constexpr const char* read_span_sql = "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_READ_SPAN;
constexpr const char* read_span_lean_sql = "SELECT " INTERLOCK_EVENT_COLUMNS_LEAN INTERLOCK_READ_SPAN;
constexpr const char* read_all_sql = "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_READ_ALL;
constexpr const char* read_all_lean_sql = "SELECT " INTERLOCK_EVENT_COLUMNS_LEAN INTERLOCK_READ_ALL;
constexpr const char* read_filtered_open_sql = "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_READ_OPEN_FILTERED;

#undef INTERLOCK_READ_ALL
#undef INTERLOCK_READ_OPEN_FILTERED
#undef INTERLOCK_READ_SPAN

// `head` then ?1 .. ?positions_per_read, then `tail`.
std::string by_positions_sql(const char* head, const char* tail) {
  std::string sql = head;
  for (int i = 1; i <= positions_per_read; ++i) sql.append(i == 1 ? "?" : ", ?").append(std::to_string(i));
  return sql.append(tail);
}

const std::string read_stream_by_position_sql = by_positions_sql(
    "SELECT " INTERLOCK_EVENT_COLUMNS ", e.stream_key FROM events e" INTERLOCK_BY_POSITION, INTERLOCK_IN_ORDER);
const std::string read_stream_by_position_lean_sql = by_positions_sql(
    "SELECT " INTERLOCK_EVENT_COLUMNS_LEAN ", e.stream_key FROM events e" INTERLOCK_BY_POSITION, INTERLOCK_IN_ORDER);
const std::string read_log_by_position_sql = by_positions_sql(
    "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_WITH_STREAM INTERLOCK_BY_POSITION, INTERLOCK_IN_ORDER);
const std::string read_log_by_position_lean_sql = by_positions_sql(
    "SELECT " INTERLOCK_EVENT_COLUMNS_LEAN INTERLOCK_WITH_STREAM INTERLOCK_BY_POSITION, INTERLOCK_IN_ORDER);

#define INTERLOCK_STREAM_RANGE \
  ", e.stream_key FROM events e WHERE e.global_position BETWEEN ?1 AND ?2 ORDER BY e.global_position"
constexpr const char* read_stream_range_sql = "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_STREAM_RANGE;
constexpr const char* read_stream_range_lean_sql = "SELECT " INTERLOCK_EVENT_COLUMNS_LEAN INTERLOCK_STREAM_RANGE;

#undef INTERLOCK_STREAM_RANGE
#undef INTERLOCK_WITH_STREAM
#undef INTERLOCK_IN_ORDER
#undef INTERLOCK_BY_POSITION
#undef INTERLOCK_EVENT_COLUMNS_LEAN
#undef INTERLOCK_EVENT_COLUMNS
#undef INTERLOCK_EVENT_COLUMNS_BUT_IDS

std::string insert_events_sql(int rows) {
  std::string sql =
      "INSERT INTO events (global_position, stream_key, version, event_type, schema_version, payload,"
      " recorded_at, command_id, correlation_id, causation_id, type_key) VALUES ";
  for (int r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int c = 1; c <= columns_per_event; ++c)
      sql += "?" + std::to_string(r * columns_per_event + c) + (c < columns_per_event ? ", " : ")");
  }
  return sql;
}

std::string insert_runs_sql(int rows) {
  std::string sql = "INSERT INTO stream_runs (stream_key, first_version, span, offsets) VALUES ";
  for (int r = 0; r < rows; ++r) {
    const auto p = std::to_string(4 * r + 1) + ", ?" + std::to_string(4 * r + 2) + ", ?" + std::to_string(4 * r + 3) +
                   ", ?" + std::to_string(4 * r + 4);
    sql.append(r == 0 ? "(?" : ", (?").append(p).append(")");
  }
  return sql;
}

}  // namespace

int statements::prepare(sqlite3* db, int synchronous) {
  static const std::string insert_one_sql = insert_events_sql(1);
  static const std::string insert_many_sql = insert_events_sql(events_per_insert);
  static const std::string insert_runs_many_sql = insert_runs_sql(events_per_insert);
  const auto configured_sync = "PRAGMA synchronous = " + std::to_string(synchronous);
  const std::pair<statement*, const char*> all[] = {
      {&begin, "BEGIN IMMEDIATE"},
      {&commit, "COMMIT"},
      {&rollback, "ROLLBACK"},
      {&savepoint, "SAVEPOINT request"},
      {&release, "RELEASE request"},
      {&rollback_to, "ROLLBACK TO request"},
      {&data_version, "PRAGMA data_version"},
      {&sync_normal, "PRAGMA synchronous = NORMAL"},
      {&sync_configured, configured_sync.c_str()},
      {&last_position, "SELECT global_position FROM events ORDER BY global_position DESC LIMIT 1"},
      {&folded_mark, "SELECT value FROM journal_meta WHERE key = 'folded_position'"},
      {&set_folded_mark, "UPDATE journal_meta SET value = ?1 WHERE key = 'folded_position'"},
      {&find_stream, "SELECT stream_key, first_position FROM streams WHERE aggregate_type = ?1 AND aggregate_id = ?2"},
      {&insert_stream, "INSERT INTO streams (aggregate_type, aggregate_id, first_position) VALUES (?1, ?2, ?3)"},
      // The stream's run holding version ?2, or its newest (?2 the largest version).
      {&run_at_or_before,
       "SELECT first_version, span, offsets FROM stream_runs WHERE stream_key = ?1 AND first_version <= ?2"
       " ORDER BY first_version DESC LIMIT 1"},
      {&event_at, "SELECT stream_key, version FROM events WHERE global_position = ?1"},
      {&span_head,
       "SELECT version, global_position FROM events WHERE (global_position >> 12) = ?1 AND stream_key = ?2"
       " ORDER BY version DESC LIMIT 1"},
      {&insert_event, insert_one_sql.c_str()},
      {&insert_events, insert_many_sql.c_str()},
      // The stream's runs from the one holding version ?2 on.
      {&read_runs,
       "SELECT first_version, span, offsets FROM stream_runs WHERE stream_key = ?1 AND first_version >= coalesce("
       "(SELECT max(first_version) FROM stream_runs WHERE stream_key = ?1 AND first_version <= ?2), 0)"
       " ORDER BY first_version"},
      {&read_stream_by_position, read_stream_by_position_sql.c_str()},
      {&read_stream_by_position_lean, read_stream_by_position_lean_sql.c_str()},
      {&read_stream_range, read_stream_range_sql},
      {&read_stream_range_lean, read_stream_range_lean_sql},
      {&read_log_by_position, read_log_by_position_sql.c_str()},
      {&read_log_by_position_lean, read_log_by_position_lean_sql.c_str()},
      {&read_span, read_span_sql},
      {&read_span_lean, read_span_lean_sql},
      {&read_all, read_all_sql},
      {&read_all_lean, read_all_lean_sql},
      {&fold_scan,
       "SELECT global_position, stream_key, version, type_key FROM events"
       " WHERE global_position > ?1 AND global_position <= ?2"},
      // The same with what log_copies keeps of each event (event_copies.hpp).
      {&fold_scan_copies,
       "SELECT e.global_position, e.stream_key, e.version, e.type_key, e.schema_version, e.payload, e.recorded_at,"
       " e.command_id, coalesce(e.correlation_id, e.command_id), e.causation_id, s.aggregate_id"
       " FROM events e JOIN streams s ON s.stream_key = e.stream_key"
       " WHERE e.global_position > ?1 AND e.global_position <= ?2 ORDER BY e.global_position"},
      {&insert_log_copies, "INSERT OR REPLACE INTO log_copies (type_key, first_position, events) VALUES (?1, ?2, ?3)"},
      {&insert_run, "INSERT INTO stream_runs (stream_key, first_version, span, offsets) VALUES (?1, ?2, ?3, ?4)"},
      {&insert_runs, insert_runs_many_sql.c_str()},
      {&insert_log_run, "INSERT INTO log_runs (type_key, first_position, offsets) VALUES (?1, ?2, ?3)"},
      {&find_type_key, "SELECT type_key FROM type_keys WHERE aggregate_type = ?1 AND event_type = ?2"},
      {&insert_type_key, "INSERT INTO type_keys (aggregate_type, event_type) VALUES (?1, ?2)"},
      // The keys of a filter's pairs (a NULL list lets every value through), as a JSON array.
      {&type_keys_of,
       "SELECT json_group_array(type_key) FROM type_keys"
       " WHERE (?1 IS NULL OR aggregate_type IN (SELECT value FROM json_each(?1)))"
       " AND (?2 IS NULL OR event_type IN (SELECT value FROM json_each(?2)))"},
      // The log_runs rows of the keys in ?1 (a JSON array) that start in positions [?2, ?3].
      // With each row's copies, if any (NULL: none).
      {&read_log_runs,
       "SELECT r.first_position, r.offsets, r.type_key, c.events FROM log_runs r"
       " LEFT JOIN log_copies c ON c.type_key = r.type_key AND c.first_position = r.first_position"
       " WHERE r.type_key IN (SELECT value FROM json_each(?1)) AND r.first_position BETWEEN ?2 AND ?3"},
      {&type_names, "SELECT aggregate_type, event_type FROM type_keys WHERE type_key = ?1"},
      {&read_filtered_open, read_filtered_open_sql},
      {&insert_snapshot, "INSERT OR REPLACE INTO snapshots VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&trim_snapshots,
       "DELETE FROM snapshots WHERE stream_key = ?1 AND version <= (SELECT version FROM snapshots"
       " WHERE stream_key = ?1 ORDER BY version DESC LIMIT 1 OFFSET ?2)"},
      {&insert_command,
       "INSERT INTO commands (command_id, command_type, aggregate_type, aggregate_id, first_position, last_position,"
       " last_version, result, error_code, error_message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
      {&find_command,
       "SELECT aggregate_type, aggregate_id, first_position, last_position, last_version, result, command_type,"
       " error_code, error_message FROM commands WHERE command_id = ?1"},
      {&load_snapshot,
       "SELECT sn.version, sn.state_version, sn.state, sn.recorded_at FROM streams s"
       " JOIN snapshots sn ON sn.stream_key = s.stream_key"
       " WHERE s.aggregate_type = ?1 AND s.aggregate_id = ?2 AND sn.version <= ?3 AND sn.recorded_at <= ?4"
       " ORDER BY sn.version DESC LIMIT 1"},
  };
  for (const auto& [stmt, sql] : all)
    if (int rc = stmt->prepare(db, sql); rc != SQLITE_OK) return rc;
  return SQLITE_OK;
}

}  // namespace interlock::sqlite
