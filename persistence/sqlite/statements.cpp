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

// The folded part of a stream: the stream index in version order, each entry
// joined to its event by position. The last two columns let the reader check
// that the entry and the event agree (the index is a cache of the events).
#define INTERLOCK_READ_FOLDED                                                        \
  ", e.stream_key, i.version"                                                         \
  " FROM stream_index i CROSS JOIN events e ON e.global_position = i.global_position" \
  " WHERE i.stream_key = ?1 AND i.version >= ?2 ORDER BY i.version LIMIT ?3"
// One span of positions (the expression must match the index's for SQLite to use it).
#define INTERLOCK_READ_SPAN                                                                        \
  " FROM events e WHERE (e.global_position >> 12) = ?1 AND e.stream_key = ?2 AND e.version >= ?3" \
  " ORDER BY e.version LIMIT ?4"
// The folded part of a filtered log read, one window of positions at a time:
// the positions filed under the keys of ?1 (a JSON array).
#define INTERLOCK_FILTERED_POSITIONS                                                               \
  "SELECT global_position FROM log_index WHERE type_key IN (SELECT value FROM json_each(?1))" \
  " AND global_position BETWEEN ?2 AND ?3"
#define INTERLOCK_READ_BY_POSITION                               \
  ", s.aggregate_type, s.aggregate_id"                           \
  " FROM events e JOIN streams s ON s.stream_key = e.stream_key" \
  " WHERE e.global_position IN ("
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

constexpr const char* read_folded_sql = "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_READ_FOLDED;
constexpr const char* read_folded_lean_sql = "SELECT " INTERLOCK_EVENT_COLUMNS_LEAN INTERLOCK_READ_FOLDED;
constexpr const char* read_span_sql = "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_READ_SPAN;
constexpr const char* read_span_lean_sql = "SELECT " INTERLOCK_EVENT_COLUMNS_LEAN INTERLOCK_READ_SPAN;
constexpr const char* read_all_sql = "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_READ_ALL;
constexpr const char* read_all_lean_sql = "SELECT " INTERLOCK_EVENT_COLUMNS_LEAN INTERLOCK_READ_ALL;
constexpr const char* read_filtered_folded_sql =
    "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_READ_BY_POSITION INTERLOCK_FILTERED_POSITIONS
    ") ORDER BY e.global_position LIMIT ?4";
constexpr const char* read_filtered_open_sql = "SELECT " INTERLOCK_EVENT_COLUMNS INTERLOCK_READ_OPEN_FILTERED;

#undef INTERLOCK_READ_ALL
#undef INTERLOCK_READ_OPEN_FILTERED
#undef INTERLOCK_READ_BY_POSITION
#undef INTERLOCK_FILTERED_POSITIONS
#undef INTERLOCK_READ_SPAN
#undef INTERLOCK_READ_FOLDED
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

}  // namespace

int statements::prepare(sqlite3* db, int synchronous) {
  static const std::string insert_one_sql = insert_events_sql(1);
  static const std::string insert_many_sql = insert_events_sql(events_per_insert);
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
      {&indexed_head,
       "SELECT i.version, i.global_position, e.stream_key, e.version FROM stream_index i"
       " LEFT JOIN events e ON e.global_position = i.global_position"
       " WHERE i.stream_key = ?1 ORDER BY i.version DESC LIMIT 1"},
      {&span_head,
       "SELECT version, global_position FROM events WHERE (global_position >> 12) = ?1 AND stream_key = ?2"
       " ORDER BY version DESC LIMIT 1"},
      {&insert_event, insert_one_sql.c_str()},
      {&insert_events, insert_many_sql.c_str()},
      {&read_folded, read_folded_sql},
      {&read_folded_lean, read_folded_lean_sql},
      {&read_span, read_span_sql},
      {&read_span_lean, read_span_lean_sql},
      {&read_all, read_all_sql},
      {&read_all_lean, read_all_lean_sql},
      // Sorted by stream, so the index's pages are each written once per fold.
      {&fold_events,
       "INSERT INTO stream_index (stream_key, version, global_position)"
       " SELECT stream_key, version, global_position FROM events"
       " WHERE global_position > ?1 AND global_position <= ?2 ORDER BY stream_key, version"},
      {&fold_by_type,
       // In position order: each key's entries go at its end, so no sort is needed.
       "INSERT INTO log_index (type_key, global_position) SELECT type_key, global_position FROM events"
       " WHERE global_position > ?1 AND global_position <= ?2"},
      {&find_type_key, "SELECT type_key FROM type_keys WHERE aggregate_type = ?1 AND event_type = ?2"},
      {&insert_type_key, "INSERT INTO type_keys (aggregate_type, event_type) VALUES (?1, ?2)"},
      // The keys of a filter's pairs (a NULL list lets every value through), as a JSON array.
      {&type_keys_of,
       "SELECT json_group_array(type_key) FROM type_keys"
       " WHERE (?1 IS NULL OR aggregate_type IN (SELECT value FROM json_each(?1)))"
       " AND (?2 IS NULL OR event_type IN (SELECT value FROM json_each(?2)))"},
      {&read_filtered_folded, read_filtered_folded_sql},
      {&read_filtered_open, read_filtered_open_sql},
      // After a fold: an event of the folded range whose stream lacks the
      // version before it, earlier in the journal (a gap), or has no valid version.
      {&find_gap,
       "SELECT e.stream_key, e.version, e.global_position FROM events e"
       " WHERE e.global_position > ?1 AND e.global_position <= ?2 AND (e.version < 1 OR (e.version > 1 AND"
       " NOT EXISTS (SELECT 1 FROM stream_index i WHERE i.stream_key = e.stream_key AND i.version = e.version - 1"
       " AND i.global_position < e.global_position))) LIMIT 1"},
      {&insert_snapshot, "INSERT OR REPLACE INTO snapshots VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&trim_snapshots,
       "DELETE FROM snapshots WHERE stream_key = ?1 AND version <= (SELECT version FROM snapshots"
       " WHERE stream_key = ?1 ORDER BY version DESC LIMIT 1 OFFSET ?2)"},
      {&insert_command, "INSERT INTO commands VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&find_command,
       "SELECT s.aggregate_type, s.aggregate_id, c.first_position, c.last_position, c.last_version, c.result"
       " FROM commands c JOIN streams s ON s.stream_key = c.stream_key WHERE c.command_id = ?1"},
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
