#include <interlock/persistence/sqlite/schema.hpp>

#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

namespace interlock::sqlite {
namespace {

// Why events have no UNIQUE (stream_key, version) index: concurrent aggregates
// write interleaved streams, so every commit would dirty leaf pages all over
// such an index, and the larger the file, the more pages each commit rewrites
// (1,000 streams, batches of 512: 131k rows/s at 100k events, 37k rows/s at
// 500k). Instead two indexes share the work:
//  - events_by_span indexes a stream's events within each span of 4,096
//    positions: a commit touches only the newest span's few pages;
//  - stream_runs holds every event up to journal_meta.folded_position by
//    stream: one row per run of a stream's consecutive versions within one
//    span, its positions packed as 2-byte offsets in the span. The writer
//    folds the spans behind the newest few into it in a transaction of its
//    own between batches (fold.cpp).
// Why runs and not one row per event: a B-tree insert costs about 0.45 us
// whatever the row, and interleaved traffic leaves several events of a stream
// in each span (4 in the bank benchmark), so a row per run made the fold
// 3-4x cheaper; a cold read still costs one seek for the stream's runs, then
// one row fetch per event by position.
// The fold also files the events in log_runs under the key of their pair of
// aggregate type and event type, one row per key and span, for reads of the
// log filtered by either or both: a filter is a set of keys, each read as one
// range. The writer stores the key in the event's row (it registers a new pair
// in the transaction of its first event), so the fold reads it there.
// Why log_copies: log_runs finds a filtered read's events, but each is then
// a row fetch in a page of its own (a type of 1% of the log costs 7% of
// reading all of it, page copies mostly). With sqlite_options::category_copies
// the fold also writes each log_runs row's events into one blob beside it, so
// such a read costs what it returns; it doubles the space events take, hence
// an option. journal_meta.category_copies records that a file keeps them.
// A stream is read from stream_runs (one seek, then its events by position)
// and then from the few spans after the folded mark, so a read costs what the
// stream holds, not what the journal holds. stream_runs is a cache of the
// events: the fold checks that each stream's runs follow on from its last one
// (so (stream, version) is unique over the folded events) and logs gaps.
//
// Why a correlation id equal to the command id is stored as NULL: that is
// every command that starts a conversation (the default), and the 26 bytes
// were a fifth of an event's row. An empty correlation id beside a command id
// is stored as '' so that it does not read back as the command id.
//
// Why commands name their stream instead of referencing streams: a recorded
// command may store no events (it changed nothing, or its handler refused
// it), and a streams row exists only for a stream with events (it holds the
// position of the first), so such a command may target a stream that has no
// row. Its positions are then 0, and last_version is the version it was
// decided on. A refused command keeps its errc and message, so that a retry
// gets the same refusal; its command_type, so that a key reused for another
// type of command is refused.
#define INTERLOCK_LOG_COPIES_TABLE                                                         \
  "log_copies (type_key INTEGER NOT NULL, first_position INTEGER NOT NULL, events BLOB NOT NULL," \
  " PRIMARY KEY (type_key, first_position))"

constexpr const char* schema = R"sql(
CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value);
INSERT INTO journal_meta VALUES ('format_version', 7), ('folded_position', 0);
CREATE TABLE streams (
  stream_key INTEGER PRIMARY KEY,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  first_position INTEGER NOT NULL,  -- of the stream's first event
  UNIQUE (aggregate_type, aggregate_id));
CREATE TABLE events (
  global_position INTEGER PRIMARY KEY,
  stream_key INTEGER NOT NULL REFERENCES streams,
  version INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  payload TEXT NOT NULL,
  recorded_at INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
  command_id TEXT,
  correlation_id TEXT,  -- NULL: the same as command_id; '': none
  causation_id TEXT,
  type_key INTEGER NOT NULL);  -- of its pair of aggregate type and event type, in type_keys
CREATE UNIQUE INDEX events_by_span ON events (global_position >> 12, stream_key, version);
-- The folded events by stream: run i holds versions first_version ..
-- first_version + n - 1 at positions (span << 12) + offset, n offsets of
-- 2 bytes each (little-endian) in `offsets`.
CREATE TABLE stream_runs (
  stream_key INTEGER NOT NULL,
  first_version INTEGER NOT NULL,
  span INTEGER NOT NULL,
  offsets BLOB NOT NULL,
  PRIMARY KEY (stream_key, first_version)) WITHOUT ROWID;
-- Filtered log reads: one key per pair of aggregate type and event type seen,
-- and the folded events of each key, a row per span (or part of one, from
-- first_position) with the events' offsets in it in position order.
CREATE TABLE type_keys (
  type_key INTEGER PRIMARY KEY,
  aggregate_type TEXT NOT NULL,
  event_type TEXT NOT NULL,
  UNIQUE (aggregate_type, event_type));
CREATE TABLE log_runs (
  type_key INTEGER NOT NULL,
  first_position INTEGER NOT NULL,
  offsets BLOB NOT NULL,
  PRIMARY KEY (type_key, first_position)) WITHOUT ROWID;
-- Optional (sqlite_options::category_copies): a copy of each log_runs row's
-- events (event_copies.hpp), so that a filtered read finds them together.
)sql" "CREATE TABLE " INTERLOCK_LOG_COPIES_TABLE ";" R"sql(
CREATE TABLE snapshots (
  stream_key INTEGER NOT NULL REFERENCES streams,
  version INTEGER NOT NULL,        -- the stream version the state includes
  state_version INTEGER NOT NULL,  -- schema version of the state's JSON
  state TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,    -- microseconds since the Unix epoch, UTC
  PRIMARY KEY (stream_key, version)) WITHOUT ROWID;
-- Commands whose caller gave them an id to retry with (idempotency keys),
-- written in the transaction of their events, if any.
CREATE TABLE commands (
  command_id TEXT PRIMARY KEY,
  command_type TEXT NOT NULL,       -- '' for commands recorded before format 7
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  first_position INTEGER NOT NULL,  -- 0: it stored no events
  last_position INTEGER NOT NULL,
  last_version INTEGER NOT NULL,    -- the stream's version after it
  result TEXT NOT NULL,
  error_code INTEGER,               -- NULL: it succeeded; else the errc of its refusal
  error_message TEXT) WITHOUT ROWID;
-- For people using the sqlite3 shell: one row per event, stream named
-- "Type/id", time as ISO-8601 UTC with microseconds.
CREATE VIEW events_view AS
SELECT e.global_position,
       s.aggregate_type || '/' || s.aggregate_id AS stream_id,
       s.aggregate_type,
       s.aggregate_id,
       e.version,
       e.event_type,
       e.schema_version,
       e.payload,
       strftime('%Y-%m-%dT%H:%M:%S', e.recorded_at / 1000000, 'unixepoch')
         || printf('.%06dZ', e.recorded_at % 1000000) AS recorded_at,
       e.command_id,
       nullif(coalesce(e.correlation_id, e.command_id), '') AS correlation_id,
       e.causation_id
FROM events e JOIN streams s ON s.stream_key = e.stream_key
ORDER BY e.global_position;
-- Every stream with its version and last position (reads every event).
CREATE VIEW stream_heads AS
SELECT s.stream_key, s.aggregate_type, s.aggregate_id, max(e.version) AS version,
       s.first_position, max(e.global_position) AS last_position
FROM streams s JOIN events e ON e.stream_key = s.stream_key
GROUP BY s.stream_key;
)sql";

caf::error open_error(connection& db, const std::string& path) {
  return make_error(errc::storage, "cannot open journal '" + path + "': " + db.last_error());
}

caf::error not_current(const std::string& path, int format) {
  const auto current = std::to_string(sqlite_journal_format_version);
  if (format >= 1 && format < sqlite_journal_format_version)
    return make_error(errc::storage, "cannot open journal '" + path + "': it is in format " + std::to_string(format) +
                                         ", this build reads format " + current +
                                         " only; upgrade it with `interlock-journal upgrade " + path +
                                         "` (the original is kept as a backup)");
  return make_error(errc::storage, "cannot open journal '" + path + "': it has format version " +
                                       std::to_string(format) + ", this build reads format " + current);
}

}  // namespace

const char* schema_sql() { return schema; }

int read_format_version(connection& db) {
  statement q;
  if (q.prepare(db.get(), "SELECT value FROM journal_meta WHERE key = 'format_version'") != SQLITE_OK) return 0;
  return q.step() == SQLITE_ROW ? static_cast<int>(q.column_int64(0)) : 0;
}

caf::error create_or_check_schema(connection& db, const std::string& path) {
  statement q;
  if (q.prepare(db.get(), "SELECT count(*), count(*) FILTER (WHERE name = 'journal_meta') FROM sqlite_master") !=
          SQLITE_OK ||
      q.step() != SQLITE_ROW)
    return open_error(db, path);
  const auto objects = q.column_int64(0);
  const bool has_meta = q.column_int64(1) > 0;
  q.reset();
  if (objects == 0) return db.exec(schema) == SQLITE_OK ? caf::error{} : open_error(db, path);
  if (!has_meta)
    return make_error(errc::storage, "cannot open journal '" + path +
                                         "': it is a SQLite database but not an interlock journal "
                                         "(no journal_meta table)");
  if (const int format = read_format_version(db); format != sqlite_journal_format_version)
    return not_current(path, format);
  // log_copies came within format 7: a file made before it gains the table,
  // which builds before it ignore (they keep no copies; readers check them).
  if (db.exec("CREATE TABLE IF NOT EXISTS " INTERLOCK_LOG_COPIES_TABLE) != SQLITE_OK) return open_error(db, path);
  return {};
}

}  // namespace interlock::sqlite
