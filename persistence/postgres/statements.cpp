#include <interlock/persistence/postgres/statements.hpp>

namespace interlock::postgres {
namespace {

// Replaces every "S." in `sql` by the quoted schema: "schema".
std::string with_schema(std::string sql, const std::string& schema) {
  const std::string quoted = "\"" + schema + "\".";
  for (auto at = sql.find("S."); at != std::string::npos; at = sql.find("S.", at + quoted.size()))
    sql.replace(at, 2, quoted);
  return sql;
}

// What a stream read returns (statements.hpp's event_column), and from where.
constexpr const char* event_columns =
    "e.position, s.aggregate_type, s.aggregate_id, e.version, t.event_type, e.schema_version, e.payload,"
    " e.recorded_at_us, e.command_id, e.correlation_id, e.causation_id";
constexpr const char* named_events =
    "S.event_rows e JOIN S.streams s USING (stream_key) JOIN S.event_types t USING (type_key)";

}  // namespace

statements make_statements(const std::string& schema) {
  statements q;
  const std::string cols = event_columns;
  const std::string from = named_events;
  const auto s = [&](const std::string& sql) { return with_schema(sql, schema); };
  q.lock_head = s("SELECT last_position FROM S.journal_head WHERE id = 1 FOR UPDATE");
  q.lock_head_now = s("SELECT last_position FROM S.journal_head WHERE id = 1 FOR UPDATE NOWAIT");
  // A stream's key (NULL if it has none yet) and version.
  q.stream_versions =
      s("SELECT k.t, k.i, s.stream_key, coalesce((SELECT max(e.version) FROM S.event_rows e"
        " WHERE e.stream_key = s.stream_key), 0) FROM unnest($1::text[], $2::text[]) AS k(t, i)"
        " LEFT JOIN S.streams s ON s.aggregate_type = k.t AND s.aggregate_id = k.i");
  q.type_keys = s("SELECT k.a, k.e, t.type_key FROM unnest($1::text[], $2::text[]) AS k(a, e)"
                  " JOIN S.event_types t ON t.aggregate_type = k.a AND t.event_type = k.e");
  // The keys handed out so far (read under the counter row's lock, which
  // every writer of these tables holds).
  q.last_keys = s("SELECT (SELECT coalesce(max(stream_key), 0) FROM S.streams),"
                  " (SELECT coalesce(max(type_key), 0) FROM S.event_types)");
  q.insert_streams = s("INSERT INTO S.streams SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])");
  q.insert_types = s("INSERT INTO S.event_types SELECT * FROM unnest($1::integer[], $2::text[], $3::text[])");
  q.commands_seen = s("SELECT command_id FROM S.commands WHERE command_id = ANY($1::text[])");
  // The counter row moves in the statement that inserts the events, so the
  // two cannot part. A batch lands at the positions it planned from the value
  // it read under its lock ($2), or fails whole: were the counter anywhere
  // else, the positions would be NULL, which the primary key refuses.
  q.insert_events =
      s("WITH head AS (UPDATE S.journal_head SET last_position = last_position + $1::bigint"
        " WHERE id = 1 RETURNING last_position - $1::bigint AS base)"
        " INSERT INTO S.event_rows (position, stream_key, version, type_key, schema_version, payload,"
        " recorded_at_us, command_id, correlation_id, causation_id)"
        " SELECT CASE WHEN head.base = $2::bigint THEN head.base + e.n END, e.k, e.v, e.tk, e.sv, e.p, $3::bigint,"
        " e.c, e.co, e.ca FROM head, unnest($4::bigint[], $5::bigint[], $6::integer[], $7::integer[], $8::text[],"
        " $9::text[], $10::text[], $11::text[]) WITH ORDINALITY AS e(k, v, tk, sv, p, c, co, ca, n)");
  q.insert_snapshots =
      s("INSERT INTO S.snapshots (aggregate_type, aggregate_id, version, state_version, state, recorded_at_us)"
        " SELECT t, i, v, sv, st, $1::bigint FROM unnest($2::text[], $3::text[], $4::bigint[], $5::integer[],"
        " $6::text[]) AS x(t, i, v, sv, st) ON CONFLICT (aggregate_type, aggregate_id, version) DO UPDATE"
        " SET state_version = excluded.state_version, state = excluded.state, recorded_at_us = excluded.recorded_at_us");
  // Keeps each stream's `keep` newest snapshots.
  q.trim_snapshots =
      s("DELETE FROM S.snapshots d USING unnest($1::text[], $2::text[], $3::bigint[]) AS k(t, i, keep)"
        " WHERE d.aggregate_type = k.t AND d.aggregate_id = k.i AND d.version < (SELECT x.version FROM"
        " S.snapshots x WHERE x.aggregate_type = k.t AND x.aggregate_id = k.i ORDER BY x.version DESC"
        " OFFSET k.keep - 1 LIMIT 1)");
  q.insert_commands =
      s("INSERT INTO S.commands (command_id, command_type, aggregate_type, aggregate_id, first_position,"
        " last_position, last_version, result_json, refusal_code, refusal_message) SELECT * FROM"
        " unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],"
        " $8::text[], $9::integer[], $10::text[])");
  // The channel is named after the schema (a checked lowercase identifier,
  // so it may stand in the literal); the payload is the batch's last
  // position, read from the counter row the events statement just moved.
  q.notify_head = s("SELECT pg_notify('" + schema + "', last_position::text) FROM S.journal_head WHERE id = 1");
  q.listen = "LISTEN \"" + schema + "\"";
  q.read_stream = s("SELECT " + cols + " FROM " + from + " WHERE s.aggregate_type = $1 AND s.aggregate_id = $2"
                    " AND e.version >= $3::bigint ORDER BY e.version LIMIT $4::bigint");
  const std::string log_cols =
      "position, stream_key, version, type_key, schema_version, payload, recorded_at_us, command_id,"
      " correlation_id, causation_id";
  q.read_all = s("SELECT " + log_cols + " FROM S.event_rows WHERE position >= $1::bigint ORDER BY position"
                 " LIMIT $2::bigint");
  // A filtered read takes two steps (event_reader.cpp). First the page's
  // positions: the filter becomes type keys, and for each, at most a page of
  // positions comes from the index of (type_key, position) alone (an
  // index-only scan started at (key, from)). Written as a row comparison
  // ordered by both columns so that no plan can use the primary key
  // instead: a generic plan takes each type for common, would scan the log
  // by position and filter, and a read of a rare type would cost like
  // reading the whole log before its events.
  q.filtered_positions =
      s("SELECT p.position, p.type_key FROM (SELECT type_key FROM S.event_types WHERE"
        " (cardinality($2::text[]) = 0 OR aggregate_type = ANY($2::text[])) AND (cardinality($3::text[]) = 0"
        " OR event_type = ANY($3::text[]))) k, LATERAL (SELECT i.position, i.type_key FROM S.event_rows i WHERE"
        " (i.type_key, i.position) >= (k.type_key, $1::bigint) AND i.type_key <= k.type_key"
        " ORDER BY i.type_key, i.position LIMIT $4::bigint) p ORDER BY p.position LIMIT $4::bigint");
  // Then their rows: the rows between the first and the last, of the page's
  // types, when they lie close together; else each by its position.
  q.read_range_of_types = s("SELECT " + log_cols + " FROM S.event_rows WHERE position >= $1::bigint AND"
                            " position <= $2::bigint AND type_key = ANY($3::integer[]) ORDER BY position");
  q.read_positions =
      s("SELECT " + log_cols + " FROM S.event_rows WHERE position = ANY($1::bigint[]) ORDER BY position");
  q.stream_names = s("SELECT stream_key, aggregate_type, aggregate_id FROM S.streams WHERE stream_key = ANY($1::bigint[])");
  q.type_names = s("SELECT type_key, aggregate_type, event_type FROM S.event_types WHERE type_key = ANY($1::integer[])");
  // The counter row as committed: the last position any reader can see.
  q.last_position = s("SELECT last_position FROM S.journal_head WHERE id = 1");
  q.stream_version =
      s("SELECT coalesce(max(e.version), 0) FROM S.event_rows e JOIN S.streams s USING (stream_key)"
        " WHERE s.aggregate_type = $1 AND s.aggregate_id = $2");
  q.load_snapshot =
      s("SELECT version, state_version, state, recorded_at_us FROM S.snapshots WHERE aggregate_type = $1"
        " AND aggregate_id = $2 AND version <= $3::bigint AND recorded_at_us <= $4::bigint"
        " ORDER BY version DESC LIMIT 1");
  q.find_command =
      s("SELECT aggregate_type, aggregate_id, first_position, last_position, last_version, result_json,"
        " command_type, refusal_code, refusal_message FROM S.commands WHERE command_id = $1");
  return q;
}

}  // namespace interlock::postgres
