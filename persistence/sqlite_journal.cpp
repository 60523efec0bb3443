// Opening a SQLite journal: the connection's settings, the schema, and the
// checks of its bookkeeping against the events. Appends, reads and the stream
// index live in persistence/sqlite/ (see journal_impl.hpp).
#include <interlock/persistence/sqlite_journal.hpp>

#include <chrono>
#include <thread>

#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/core/log.hpp>
#include <interlock/persistence/sqlite/journal_impl.hpp>
#include <interlock/persistence/sqlite/schema.hpp>
#include <interlock/persistence/sqlite/sql_values.hpp>

namespace interlock {
namespace sqlite {

caf::expected<std::unique_ptr<journal>> sqlite_journal::open(const sqlite_options& options) {
  if (options.path.empty()) return make_error(errc::invalid_argument, "sqlite_options.path is empty");
  if (options.busy_timeout_ms < 0)
    return make_error(errc::invalid_argument,
                      "sqlite_options.busy_timeout_ms is negative: " + std::to_string(options.busy_timeout_ms));
  std::unique_ptr<sqlite_journal> j{new sqlite_journal(options.path)};
  if (auto err = j->connect(options)) return err;
  if (auto err = j->ensure_schema()) return err;
  j->synchronous_ = options.synchronous;
  if (j->q_.prepare(j->db_.get(), static_cast<int>(options.synchronous)) != SQLITE_OK) return j->open_error();
  if (auto err = j->start_copies(options.category_copies)) return err;
  if (auto err = j->check_at_open()) return err;
  return std::unique_ptr<journal>{std::move(j)};
}

// Turns log_copies on for the file if `wanted` (a connection that does not
// ask learns it from the file at its folds: fold_some). The first to ask
// empties the indexes, so that the fold at open (check_at_open) indexes every
// event again, with its copy.
caf::error sqlite_journal::start_copies(bool wanted) {
  if (!wanted) return {};
  if (run(q_.begin) != SQLITE_OK) return open_error();
  fold_state at;
  caf::error err;
  if (read_copies_flag() != SQLITE_OK || read_fold_state(at) != SQLITE_OK) err = open_error();
  else if (!copies_ && db_.exec("INSERT OR REPLACE INTO journal_meta VALUES ('category_copies', 1)") != SQLITE_OK)
    err = open_error();
  else if (!copies_ && at.folded > 0)
    err = rebuild_stream_index("category copies turned on");
  if (!err && run(q_.commit) != SQLITE_OK) err = open_error();
  copies_ = !err;
  if (err) rollback();
  return err;
}

caf::error sqlite_journal::open_error() const {
  return make_error(errc::storage, "cannot open journal '" + path_ + "': " + db_.last_error());
}

caf::error sqlite_journal::connect(const sqlite_options& options) {
  if (db_.open(path_) != SQLITE_OK) return open_error();
  sqlite3_busy_timeout(db_.get(), options.busy_timeout_ms);
  // sqlite3_open_v2 opens files lazily: this first statement is what fails
  // for a file that is not a database or cannot be read.
  // Switching a new file to WAL needs an exclusive lock, and SQLite reports a
  // competing opener as SQLITE_BUSY without calling the busy handler: retry
  // within the busy timeout ourselves.
  statement mode;
  if (mode.prepare(db_.get(), "PRAGMA journal_mode = WAL") != SQLITE_OK) return open_error();
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);
  int rc;
  while ((rc = mode.step()) == SQLITE_BUSY && std::chrono::steady_clock::now() < give_up) {
    mode.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (rc != SQLITE_ROW) return open_error();
  if (auto actual = mode.column_text(0); actual != "wal")
    return make_error(errc::storage,
                      "cannot open journal '" + path_ + "': journal_mode is '" + actual + "', WAL is required");
  mode.reset();
  const auto sync = "PRAGMA synchronous = " + std::to_string(static_cast<int>(options.synchronous));
  if (db_.exec(sync.c_str()) != SQLITE_OK) return open_error();
  // Foreign keys stay unenforced (SQLite's default): the writer creates a
  // stream's row in the transaction of its first events and never deletes
  // one, so enforcing the events' REFERENCES streams only re-checked that, at
  // a B-tree seek per event (18% of an interleaved insert's instructions).
  return {};
}

caf::error sqlite_journal::ensure_schema() {
  // IMMEDIATE: two processes opening a fresh file must not both create it.
  if (db_.exec("BEGIN IMMEDIATE") != SQLITE_OK) return open_error();
  auto err = create_or_check_schema(db_, path_);
  if (!err && db_.exec("COMMIT") != SQLITE_OK) err = open_error();
  if (err && db_.in_transaction()) db_.exec("ROLLBACK");
  return err;
}

// The bookkeeping is checked against the events, cheaply: the folded mark
// must not be ahead of the last event, and the event at the mark must be
// indexed where it is. stream_runs is a cache of the events, so what
// disagrees is repaired (with a log line). Then the events after the mark are
// folded, which checks them for duplicates and gaps. Those are damage to the
// events themselves: logged as errors naming them, not a refusal to open, so
// that one damaged stream does not stop every other (its readers stop at it).
caf::error sqlite_journal::check_at_open() {
  if (run(q_.begin) != SQLITE_OK) return open_error();
  auto err = [&]() -> caf::error {
    fold_state at;
    if (read_fold_state(at) != SQLITE_OK) return open_error();
    if (at.folded > at.last)
      return rebuild_stream_index("the folded mark (" + std::to_string(at.folded) + ") is ahead of the last event (" +
                                  std::to_string(at.last) + ")");
    if (at.folded == 0) return {};
    reset_on_exit guard{q_.event_at};
    q_.event_at.bind(1, to_int64(at.folded));
    const int rc = q_.event_at.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return open_error();
    std::uint64_t indexed_at = 0;
    if (rc == SQLITE_ROW &&
        indexed_position(q_.event_at.column_int64(0), static_cast<std::uint64_t>(q_.event_at.column_int64(1)),
                         indexed_at) != SQLITE_OK)
      return open_error();
    if (indexed_at != at.folded)
      return rebuild_stream_index("the event at the folded mark (" + std::to_string(at.folded) +
                                  ") is not in the stream index");
    return {};
  }();
  if (!err && run(q_.commit) != SQLITE_OK) err = open_error();
  if (err) {
    rollback();
    return err;
  }
  fold_state at;
  if (read_fold_state(at) != SQLITE_OK) return open_error();
  if (auto failure = fold(at.last)) {
    if (!is(failure, errc::corrupt_event)) return failure;
    log(log_level::error, message_of(failure));
  }
  return {};
}

int sqlite_journal::read_last_position(std::uint64_t& out) {
  reset_on_exit guard{q_.last_position};
  const int rc = q_.last_position.step();
  out = rc == SQLITE_ROW ? static_cast<std::uint64_t>(q_.last_position.column_int64(0)) : 0;
  return failed(rc) ? rc : SQLITE_OK;
}

// Steps a statement that returns no rows to completion; SQLITE_OK or the error.
int sqlite_journal::run(statement& stmt) {
  reset_on_exit guard{stmt};
  const int rc = stmt.step();
  return failed(rc) ? rc : SQLITE_OK;
}

caf::expected<sqlite_settings> sqlite_journal::settings() {
  sqlite_settings out;
  statement q;
  const auto pragma = [&](const char* sql) -> bool {
    return q.prepare(db_.get(), sql) == SQLITE_OK && q.step() == SQLITE_ROW;
  };
  if (!pragma("PRAGMA journal_mode")) return read_error("journal_mode");
  out.journal_mode = q.column_text(0);
  if (!pragma("PRAGMA synchronous")) return read_error("synchronous");
  out.synchronous = static_cast<int>(q.column_int64(0));
  if (!pragma("PRAGMA busy_timeout")) return read_error("busy_timeout");
  out.busy_timeout_ms = static_cast<int>(q.column_int64(0));
  return out;
}

}  // namespace sqlite

caf::expected<std::unique_ptr<journal>> open_sqlite_journal(const sqlite_options& options) {
  return sqlite::sqlite_journal::open(options);
}

journal_factory sqlite_journal_factory(sqlite_options options) {
  return [options = std::move(options)] { return open_sqlite_journal(options); };
}

caf::expected<sqlite_settings> settings_of(journal& j) {
  if (auto* sj = dynamic_cast<sqlite::sqlite_journal*>(&j)) return sj->settings();
  return make_error(errc::invalid_argument, "settings_of: not a SQLite journal");
}

}  // namespace interlock
