// Upgrading a journal file: the current format's file is made by the journal
// itself, the rows are copied with SQL from the old file (ATTACHed), and the
// journal's open then folds every event, which checks versions for gaps and
// duplicates. Only then is the copy compared with the original and swapped in.
#include <interlock/persistence/sqlite_upgrade.hpp>

#include <filesystem>
#include <system_error>

#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/sqlite/schema.hpp>
#include <interlock/persistence/sqlite_db.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

namespace interlock {
namespace {

namespace fs = std::filesystem;
using sqlite::connection;
using sqlite::statement;

// The correlation id as a reader gets it back ('' for none), per format:
// from format 4 on, NULL stands for the command id and '' for none; before,
// ids were stored as given, with NULL for none.
std::string read_correlation(const char* table, int format) {
  const std::string t = table;
  if (format >= 4) return "nullif(coalesce(" + t + ".correlation_id, " + t + ".command_id), '')";
  return "nullif(" + t + ".correlation_id, '')";
}

// The commands of a format-1..6 file as the current format stores them: the
// stream named (it was a streams key), no command type (not kept then), and
// no refusal (only commands with events were recorded). Copied, then checked.
#define INTERLOCK_COMMAND_COLUMNS                                                                                  \
  "command_id, command_type, aggregate_type, aggregate_id, first_position, last_position, last_version, result," \
  " error_code, error_message"
#define INTERLOCK_OLD_COMMANDS                                                                                        \
  "SELECT c.command_id, '', s.aggregate_type, s.aggregate_id, c.first_position, c.last_position, c.last_version," \
  " c.result, NULL, NULL FROM old.commands c JOIN old.streams s ON s.stream_key = c.stream_key"
constexpr const char* copy_commands_sql =
    "INSERT INTO main.commands (" INTERLOCK_COMMAND_COLUMNS ") " INTERLOCK_OLD_COMMANDS;
// The original's commands that are not in the copy as they were.
constexpr const char* commands_not_copied_sql =
    "SELECT count(*) FROM (" INTERLOCK_OLD_COMMANDS " EXCEPT SELECT " INTERLOCK_COMMAND_COLUMNS " FROM main.commands)";
#undef INTERLOCK_OLD_COMMANDS
#undef INTERLOCK_COMMAND_COLUMNS

// The correlation id of a format-1..3 row as the current format stores it.
constexpr const char* stored_correlation_before_4 =
    "CASE WHEN correlation_id IS NULL OR correlation_id = '' THEN (CASE WHEN command_id IS NULL THEN NULL ELSE '' END)"
    " WHEN correlation_id = command_id THEN NULL ELSE correlation_id END";

class upgrader {
 public:
  explicit upgrader(std::string path)
      : path_(std::move(path)), copy_(path_ + ".upgrading") {}

  caf::expected<upgrade_report> run();

 private:
  caf::error fail(const std::string& what) const {
    return make_error(errc::storage, "cannot upgrade journal '" + path_ + "': " + what);
  }
  caf::error fail_sql(const connection& db, const std::string& what) const {
    return fail(what + ": " + db.last_error());
  }
  caf::error read_format();
  caf::error create_copy();
  caf::error copy_rows();
  caf::error check_copy();
  caf::error check_versions(connection& db);
  caf::error check_commands(connection& db);
  caf::error swap_in();
  bool has_table(connection& db, const char* schema, const char* table);
  std::int64_t count(connection& db, const std::string& sql);
  void remove_copy();

  std::string path_, copy_;
  int format_ = 0;
  upgrade_report report_;
};

caf::expected<upgrade_report> upgrader::run() {
  std::error_code ec;
  if (!fs::exists(path_, ec)) return fail("no such file");
  if (auto err = read_format()) return err;
  report_.from_format = format_;
  if (format_ == sqlite_journal_format_version) return report_;
  remove_copy();
  caf::error err;
  if (!(err = create_copy()) && !(err = copy_rows()) && !(err = check_copy()) && !(err = swap_in())) return report_;
  remove_copy();
  return err;
}

caf::error upgrader::read_format() {
  connection db;
  if (db.open(path_) != SQLITE_OK) return fail_sql(db, "cannot open it");
  format_ = sqlite::read_format_version(db);
  if (format_ < 1 || format_ > sqlite_journal_format_version)
    return fail(format_ == 0 ? "it is not an interlock journal (no format_version in journal_meta)"
                             : "it has format version " + std::to_string(format_) + ", this build knows formats 1 to " +
                                   std::to_string(sqlite_journal_format_version));
  return {};
}

caf::error upgrader::create_copy() {
  auto j = open_sqlite_journal({copy_});
  if (!j) return fail("cannot create the copy '" + copy_ + "': " + message_of(j.error()));
  return {};
}

bool upgrader::has_table(connection& db, const char* schema, const char* table) {
  std::string sql = "SELECT count(*) FROM ";
  sql.append(schema).append(".sqlite_master WHERE type = 'table' AND name = ?1");
  statement q;
  if (q.prepare(db.get(), sql) != SQLITE_OK) return false;
  q.bind(1, std::string_view{table});
  return q.step() == SQLITE_ROW && q.column_int64(0) > 0;
}

std::int64_t upgrader::count(connection& db, const std::string& sql) {
  statement q;
  if (q.prepare(db.get(), sql) != SQLITE_OK || q.step() != SQLITE_ROW) return -1;
  return q.column_int64(0);
}

// One transaction on both files: IMMEDIATE keeps writers out of the original
// while it is read.
caf::error upgrader::copy_rows() {
  connection db;
  if (db.open(copy_) != SQLITE_OK) return fail_sql(db, "cannot open the copy");
  statement attach;
  if (attach.prepare(db.get(), "ATTACH DATABASE ?1 AS old") != SQLITE_OK) return fail_sql(db, "cannot attach");
  attach.bind(1, path_);
  if (attach.step() != SQLITE_DONE) return fail_sql(db, "cannot attach the original");
  if (db.exec("BEGIN IMMEDIATE") != SQLITE_OK) return fail_sql(db, "cannot lock the files");
  const std::string correlation = format_ >= 4 ? "correlation_id" : stored_correlation_before_4;
  const std::string sql =
      "INSERT INTO main.streams (stream_key, aggregate_type, aggregate_id, first_position)"
      " SELECT s.stream_key, s.aggregate_type, s.aggregate_id, f.first FROM old.streams s"
      " JOIN (SELECT stream_key, min(global_position) AS first FROM old.events GROUP BY stream_key) f"
      "  ON f.stream_key = s.stream_key;"
      "INSERT INTO main.type_keys (aggregate_type, event_type) SELECT DISTINCT s.aggregate_type, e.event_type"
      " FROM old.events e JOIN old.streams s ON s.stream_key = e.stream_key;"
      "INSERT INTO main.events (global_position, stream_key, version, event_type, schema_version, payload,"
      " recorded_at, command_id, correlation_id, causation_id, type_key)"
      " SELECT e.global_position, e.stream_key, e.version, e.event_type, e.schema_version, e.payload, e.recorded_at,"
      " e.command_id, " + correlation + ", e.causation_id, k.type_key FROM old.events e"
      " JOIN old.streams s ON s.stream_key = e.stream_key"
      " JOIN main.type_keys k ON k.aggregate_type = s.aggregate_type AND k.event_type = e.event_type"
      " ORDER BY e.global_position;";
  auto err = db.exec(sql.c_str()) == SQLITE_OK ? caf::error{} : fail_sql(db, "cannot copy the events");
  if (!err && has_table(db, "old", "snapshots") &&
      db.exec("INSERT INTO main.snapshots (stream_key, version, state_version, state, recorded_at)"
              " SELECT stream_key, version, state_version, state, recorded_at FROM old.snapshots") != SQLITE_OK)
    err = fail_sql(db, "cannot copy the snapshots");
  if (!err && has_table(db, "old", "commands") &&
      db.exec(copy_commands_sql) != SQLITE_OK)
    err = fail_sql(db, "cannot copy the commands");
  if (!err && db.exec("COMMIT") != SQLITE_OK) err = fail_sql(db, "cannot commit the copy");
  if (err) db.exec("ROLLBACK");
  return err;
}

// Every stream of the copy must run 1, 2, 3, ... in position order: a version
// stored twice or one whose predecessor is missing or later is refused,
// named. (Format 1 enforced uniqueness, formats 2 to 4 only per span.)
caf::error upgrader::check_versions(connection& db) {
  const std::string stream = "(SELECT aggregate_type || '/' || aggregate_id FROM streams s WHERE s.stream_key = e.stream_key)";
  statement q;
  if (q.prepare(db.get(), "SELECT " + stream + ", e.version, min(e.global_position), max(e.global_position)"
                          " FROM events e GROUP BY e.stream_key, e.version HAVING count(*) > 1 LIMIT 1") != SQLITE_OK)
    return fail_sql(db, "cannot check the copy's versions");
  if (q.step() == SQLITE_ROW)
    return make_error(errc::corrupt_event, "cannot upgrade journal '" + path_ + "': stream '" + q.column_text(0) +
                                               "' has version " + q.column_text(1) + " twice, at positions " +
                                               q.column_text(2) + " and " + q.column_text(3));
  if (q.prepare(db.get(), "SELECT " + stream + ", e.version, e.global_position FROM ("
                          " SELECT stream_key, version, global_position,"
                          " lag(version, 1, 0) OVER (PARTITION BY stream_key ORDER BY global_position) AS before"
                          " FROM events) e WHERE e.version != e.before + 1 LIMIT 1") != SQLITE_OK)
    return fail_sql(db, "cannot check the copy's versions");
  if (q.step() == SQLITE_ROW)
    return make_error(errc::corrupt_event, "cannot upgrade journal '" + path_ + "': stream '" + q.column_text(0) +
                                               "' has version " + q.column_text(1) + " at position " +
                                               q.column_text(2) + " without the version before it");
  return {};
}

// The journal's own open folds every event of the copy into its stream index;
// every stream must then be gapless, and every event, read as a reader would
// get it, equal to the original's, and so must the streams, snapshots and
// commands.
caf::error upgrader::check_copy() {
  if (auto j = open_sqlite_journal({copy_}); !j)
    return make_error(code_of(j.error()).value_or(errc::storage),
                      "cannot upgrade journal '" + path_ + "': " + message_of(j.error()));
  connection db;
  if (db.open(copy_) != SQLITE_OK) return fail_sql(db, "cannot open the copy");
  if (auto err = check_versions(db)) return err;
  statement attach;
  if (attach.prepare(db.get(), "ATTACH DATABASE ?1 AS old") != SQLITE_OK) return fail_sql(db, "cannot attach");
  attach.bind(1, path_);
  if (attach.step() != SQLITE_DONE) return fail_sql(db, "cannot attach the original");
  const auto events = count(db, "SELECT count(*) FROM old.events");
  const auto same = count(db, "SELECT count(*) FROM old.events o JOIN main.events n USING (global_position)"
                              " WHERE n.stream_key = o.stream_key AND n.version = o.version"
                              " AND n.event_type = o.event_type AND n.schema_version = o.schema_version"
                              " AND n.payload = o.payload AND n.recorded_at = o.recorded_at"
                              " AND n.command_id IS o.command_id AND n.causation_id IS o.causation_id AND " +
                                  read_correlation("n", sqlite_journal_format_version) + " IS " +
                                  read_correlation("o", format_));
  if (events < 0 || same != events || count(db, "SELECT count(*) FROM main.events") != events)
    return fail("the copy's events differ from the original's (" + std::to_string(same) + " of " +
                std::to_string(events) + " equal)");
  const auto streams = count(db, "SELECT count(*) FROM old.streams");
  if (count(db, "SELECT count(*) FROM old.streams o JOIN main.streams n USING (stream_key)"
                " WHERE n.aggregate_type = o.aggregate_type AND n.aggregate_id = o.aggregate_id") != streams)
    return fail("the copy's streams differ from the original's");
  if (has_table(db, "old", "snapshots") &&
      count(db, "SELECT count(*) FROM old.snapshots") != count(db, "SELECT count(*) FROM main.snapshots"))
    return fail("the copy's snapshots differ from the original's");
  if (auto err = check_commands(db)) return err;
  report_.events = static_cast<std::uint64_t>(events);
  report_.streams = static_cast<std::uint64_t>(streams);
  return {};
}

// Every command of the original, its stream named, is in the copy as it was,
// and the copy has no other (a command whose stream is missing would drop).
caf::error upgrader::check_commands(connection& db) {
  if (!has_table(db, "old", "commands")) return {};
  const auto commands = count(db, "SELECT count(*) FROM old.commands");
  const auto missing = count(db, commands_not_copied_sql);
  if (commands < 0 || missing != 0 || count(db, "SELECT count(*) FROM main.commands") != commands)
    return fail("the copy's commands differ from the original's (" + std::to_string(commands) + " commands, " +
                std::to_string(missing) + " of them not in the copy as they were)");
  return {};
}

// Both files are checkpointed into their main file first, so that the
// renamed files are whole without their -wal companions.
caf::error upgrader::swap_in() {
  for (const auto& file : {path_, copy_}) {
    connection db;
    if (db.open(file) != SQLITE_OK || db.exec("PRAGMA wal_checkpoint(TRUNCATE)") != SQLITE_OK)
      return fail_sql(db, "cannot checkpoint '" + file + "'");
  }
  const auto backup = path_ + ".format-" + std::to_string(format_) + ".bak";
  std::error_code ec;
  if (fs::exists(backup, ec)) return fail("the backup '" + backup + "' exists already; move it away first");
  fs::rename(path_, backup, ec);
  if (ec) return fail("cannot rename it to '" + backup + "': " + ec.message());
  fs::rename(copy_, path_, ec);
  if (ec) {
    fs::rename(backup, path_, ec);
    return fail("cannot put the copy in its place: " + ec.message());
  }
  for (const auto* suffix : {"-wal", "-shm"}) {
    fs::remove(path_ + suffix, ec);
    fs::remove(copy_ + suffix, ec);
  }
  report_.backup_path = backup;
  return {};
}

void upgrader::remove_copy() {
  std::error_code ec;
  for (const auto* suffix : {"", "-wal", "-shm"}) fs::remove(copy_ + suffix, ec);
}

}  // namespace

caf::expected<upgrade_report> upgrade_sqlite_journal(const std::string& path) { return upgrader{path}.run(); }

}  // namespace interlock
