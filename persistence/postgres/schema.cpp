// The PostgreSQL journal's tables (format 2). Text columns hold what the
// journal's contract says is valid UTF-8; payloads and states are kept as
// text, byte for byte as appended (jsonb would reorder their keys).
#include <interlock/persistence/postgres/schema.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/postgres_journal.hpp>

namespace interlock::postgres {
namespace {

// Every statement names its tables as "schema".table.
std::string in(const std::string& schema, const std::string& sql_before, const char* table, const std::string& sql_after = "") {
  return sql_before + "\"" + schema + "\"." + table + sql_after;
}

std::vector<query> create_statements(const std::string& s) {
  std::vector<query> q;
  q.push_back({"CREATE SCHEMA IF NOT EXISTS \"" + s + "\""});
  q.push_back({in(s, "CREATE TABLE ", "journal_meta", " (format_version integer NOT NULL)")});
  q.push_back({in(s, "INSERT INTO ", "journal_meta", " VALUES (" +
                                                         std::to_string(postgres_journal_format_version) + ")")});
  // The counter row: the last position handed out. Appends lock it first and
  // advance it in the statement that inserts their events (design.md).
  q.push_back({in(s, "CREATE TABLE ", "journal_head",
                  " (id smallint PRIMARY KEY CHECK (id = 1), last_position bigint NOT NULL)")});
  q.push_back({in(s, "INSERT INTO ", "journal_head", " VALUES (1, 0)")});
  // Streams and (aggregate type, event type) pairs get integer keys, handed
  // out by appends under the counter row's lock and never changed: an
  // event's row holds two integers where it would hold three names, and
  // its indexes compare integers (design.md, "Keys instead of names").
  q.push_back({in(s, "CREATE TABLE ", "streams",
                  " (stream_key bigint PRIMARY KEY, aggregate_type text NOT NULL, aggregate_id text NOT NULL,"
                  " UNIQUE (aggregate_type, aggregate_id))")});
  q.push_back({in(s, "CREATE TABLE ", "event_types",
                  " (type_key integer PRIMARY KEY, aggregate_type text NOT NULL, event_type text NOT NULL,"
                  " UNIQUE (aggregate_type, event_type))")});
  q.push_back({in(s, "CREATE TABLE ", "event_rows",
                  " (position bigint PRIMARY KEY, stream_key bigint NOT NULL, version bigint NOT NULL,"
                  " type_key integer NOT NULL, schema_version integer NOT NULL, payload text NOT NULL,"
                  " recorded_at_us bigint NOT NULL, command_id text NOT NULL,"
                  " correlation_id text,"  // NULL: the same as command_id (most commands start their conversation)
                  " causation_id text NOT NULL, UNIQUE (stream_key, version))")});
  // The category reads (scan_filtered): by type key, in position order.
  q.push_back({in(s, "CREATE INDEX event_rows_by_type ON ", "event_rows", " (type_key, position)")});
  // The log with its names, for people with psql (the journal's own reads
  // turn keys into names themselves).
  q.push_back({in(s, "CREATE VIEW ", "events",
                  " AS SELECT e.position, s.aggregate_type, s.aggregate_id, e.version, t.event_type,"
                  " e.schema_version, e.payload, e.recorded_at_us, e.command_id,"
                  " coalesce(e.correlation_id, e.command_id) AS correlation_id, e.causation_id"
                  " FROM \"" + s + "\".event_rows e JOIN \"" + s + "\".streams s USING (stream_key)"
                  " JOIN \"" + s + "\".event_types t USING (type_key)")});
  q.push_back({in(s, "CREATE TABLE ", "snapshots",
                  " (aggregate_type text NOT NULL, aggregate_id text NOT NULL, version bigint NOT NULL,"
                  " state_version integer NOT NULL, state text NOT NULL, recorded_at_us bigint NOT NULL,"
                  " PRIMARY KEY (aggregate_type, aggregate_id, version))")});
  // The idempotency ledger: a command's outcome, written with its events.
  q.push_back({in(s, "CREATE TABLE ", "commands",
                  " (command_id text PRIMARY KEY, command_type text NOT NULL, aggregate_type text NOT NULL,"
                  " aggregate_id text NOT NULL, first_position bigint NOT NULL, last_position bigint NOT NULL,"
                  " last_version bigint NOT NULL, result_json text NOT NULL, refusal_code integer,"
                  " refusal_message text)")});
  return q;
}

caf::error refuse(const connection& db, const std::string& schema, const std::string& why) {
  return make_error(errc::storage, "cannot open journal schema '" + schema + "' on " + db.server() + ": " + why);
}

}  // namespace

bool valid_schema_name(const std::string& name) {
  if (name.empty() || name.size() > 63 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

caf::error create_or_check_schema(connection& db, const std::string& schema, std::chrono::milliseconds timeout) {
  // The advisory lock makes two processes opening a fresh database take turns.
  std::vector<query> look;
  look.push_back({"BEGIN"});
  look.push_back({"SELECT pg_advisory_xact_lock(hashtext('interlock journal schema'))"});
  look.push_back({"SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL",
                  params{}.text("\"" + schema + "\".journal_meta").text("\"" + schema + "\".events")});
  auto seen = db.run(look, timeout);
  if (!seen) return seen.error();
  const bool has_meta = (*seen)[2].text(0, 0) == "t";
  const bool has_events = (*seen)[2].text(0, 1) == "t";
  std::vector<query> next;
  if (!has_meta && has_events) {
    db.run_one({"ROLLBACK"}, timeout);
    return refuse(db, schema, "it holds an events table but no journal_meta: not an Interlock journal");
  }
  if (!has_meta) next = create_statements(schema);
  next.push_back({in(schema, "SELECT format_version FROM ", "journal_meta")});
  next.push_back({"COMMIT"});
  auto done = db.run(next, timeout);
  if (!done) {
    if (db.in_transaction()) db.run_one({"ROLLBACK"}, timeout);
    return done.error();
  }
  const auto& meta = (*done)[done->size() - 2];
  if (meta.rows() != 1) return refuse(db, schema, "journal_meta holds " + std::to_string(meta.rows()) + " rows, not 1");
  const auto version = meta.int64(0, 0);
  if (version != postgres_journal_format_version)
    return refuse(db, schema, "its format version is " + std::to_string(version) + ", this build reads format " +
                                  std::to_string(postgres_journal_format_version) +
                                  " only (a journal written by another version of Interlock)");
  return {};
}

}  // namespace interlock::postgres
