// The PostgreSQL read store's tables (format 1): projection_checkpoints and
// parked_events as in the SQLite read store, integers as bigint.
#include <interlock/persistence/postgres/read_schema.hpp>

#include <thread>

#include <interlock/core/errors.hpp>

namespace interlock::postgres {
namespace {

std::string quoted(const std::string& schema) { return "\"" + schema + "\""; }

std::vector<query> create_statements(const std::string& schema) {
  const auto s = quoted(schema);
  std::vector<query> q;
  q.push_back({"CREATE TABLE " + s + ".read_store_meta (key text PRIMARY KEY, value bigint NOT NULL)"});
  q.push_back({"INSERT INTO " + s + ".read_store_meta VALUES ('format', " + std::to_string(read_store_format) + ")"});
  q.push_back({"CREATE TABLE " + s + ".projection_checkpoints (projection text PRIMARY KEY,"
               " position bigint NOT NULL CHECK (position >= 0), state_version bigint NOT NULL,"
               " state text, saved_at_us bigint NOT NULL)"});
  q.push_back({"CREATE TABLE " + s + ".parked_events (projection text NOT NULL, position bigint NOT NULL,"
               " stream text NOT NULL, version bigint NOT NULL, event_type text NOT NULL, error text NOT NULL,"
               " attempts bigint NOT NULL, parked_at_us bigint NOT NULL, PRIMARY KEY (projection, position))"});
  return q;
}

caf::error refuse(const connection& db, const std::string& schema, const std::string& why) {
  return make_error(errc::storage, "cannot open read schema '" + schema + "' on " + db.server() + ": " + why);
}

}  // namespace

caf::error create_or_check_read_schema(connection& db, const std::string& schema, std::chrono::milliseconds timeout) {
  std::vector<query> look;
  look.push_back({"BEGIN"});
  // Two stores creating their schemas at once would race on the catalog.
  look.push_back({"SELECT pg_advisory_xact_lock(hashtext('interlock read schema'))"});
  look.push_back({"CREATE SCHEMA IF NOT EXISTS " + quoted(schema)});
  look.push_back({"SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL,"
                  " (SELECT count(*) FROM pg_tables WHERE schemaname = $3)",
                  params{}.text(quoted(schema) + ".read_store_meta").text(quoted(schema) + ".journal_meta").text(schema)});
  auto seen = db.run(look, timeout);
  const auto rollback = [&] {
    if (db.in_transaction()) db.run_one({"ROLLBACK"}, timeout);
  };
  if (!seen) {
    rollback();
    return seen.error();
  }
  const auto& found = (*seen)[3];
  const bool has_meta = found.text(0, 0) == "t", has_journal = found.text(0, 1) == "t";
  const auto tables = found.int64(0, 2);
  if (has_journal || (!has_meta && tables > 0)) {
    rollback();
    return refuse(db, schema, has_journal ? "it holds the journal's tables (give the read side a schema of its own)"
                                          : "it holds tables but no read_store_meta: not an Interlock read store");
  }
  std::vector<query> next;
  if (!has_meta) next = create_statements(schema);
  next.push_back({"SELECT value FROM " + quoted(schema) + ".read_store_meta WHERE key = 'format'"});
  next.push_back({"COMMIT"});
  auto done = db.run(next, timeout);
  if (!done) {
    rollback();
    return done.error();
  }
  const auto& meta = (*done)[done->size() - 2];
  const auto format = meta.rows() == 1 ? meta.int64(0, 0) : 0;
  if (format != read_store_format)
    return refuse(db, schema, "it has format " + std::to_string(format) + ", which this version does not read (it reads "
                              "format " + std::to_string(read_store_format) + ")");
  return {};
}

caf::expected<std::shared_ptr<read_schema_lock>> read_schema_lock::take(const std::string& url,
                                                                         const std::string& schema,
                                                                         std::chrono::milliseconds timeout) {
  auto db = connection::open(url, timeout);
  if (!db) return std::move(db.error());
  std::shared_ptr<read_schema_lock> lock{new read_schema_lock{std::move(*db), schema, timeout}};
  if (auto err = lock->acquire()) return err;
  return lock;
}

// Two int4 keys: a space of their own, apart from the journal's one-key locks.
// Tried for a moment before giving up: the session of a process killed just
// before this one started may not have ended yet (its server process reads
// the closed socket a little later).
caf::error read_schema_lock::acquire() {
  using namespace std::chrono;
  const auto until = steady_clock::now() + std::min<milliseconds>(timeout_, seconds{3});
  for (;;) {
    auto got = db_.run_one({"SELECT pg_try_advisory_lock(hashtext('interlock read store'), hashtext($1)),"
                            " pg_backend_pid()",
                            params{}.text(schema_)},
                           timeout_);
    if (!got) return std::move(got.error());
    if (got->text(0, 0) == "t") {
      session_pid_ = got->text(0, 1);
      return {};
    }
    if (steady_clock::now() >= until) break;
    std::this_thread::sleep_for(milliseconds{50});
  }
  return make_error(errc::storage,
                    "read schema '" + schema_ + "' on " + db_.server() + " is in use: another process holds it (its "
                    "durable read models and checkpoints have one writer; give each process a read schema of its "
                    "own, setting read_side.postgres_schema, or keep its projections in memory)");
}

query read_schema_lock::held() const {
  std::lock_guard guard{mutex_};
  return {"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
          " AND classid = hashtext('interlock read store')::oid AND objid = hashtext($1)::oid AND pid = $2)",
          params{}.text(schema_).text(session_pid_)};
}

caf::error read_schema_lock::retake() {
  std::lock_guard guard{mutex_};
  if (auto err = db_.reopen(timeout_)) return err;
  return acquire();
}

}  // namespace interlock::postgres
