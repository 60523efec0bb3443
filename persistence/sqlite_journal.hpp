// A journal stored in one SQLite file (WAL mode), readable with the plain
// `sqlite3` shell through the `events_view` view.
//
// Durability: with the default sync_mode::full an append whose result was
// returned survives kill -9 and power loss. sync_mode::normal may lose the
// last commits on power loss (never on a process crash) and is faster.
//
// Several connections (journal objects, threads, processes) may use one file:
// each append runs in a BEGIN IMMEDIATE transaction and re-reads the state it
// checks, so writers never clash on positions or versions; a writer blocked by
// another one waits up to busy_timeout_ms, then its batch fails with
// errc::storage. Readers never block writers. open_watch() polls the file
// (PRAGMA data_version, then the last position) on a connection of its own.
//
// Beyond journal.hpp's contract:
//  - Every error is an interlock error (core/errors.hpp): errc::conflict
//    names the stream and both versions; errc::invalid_argument names the
//    field; errc::storage names the file and carries SQLite's message.
//  - A request that hits an unexpected constraint failure (e.g. a trigger a
//    person added) is rolled back alone with errc::storage; the others commit
//    and positions stay gapless.
//  - Reads and stream_version() with an empty aggregate_type or aggregate_id
//    fail with errc::invalid_argument.
//
// Process-wide: the first journal opened before SQLite is initialized turns
// off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS), which cost a
// global mutex on every allocation; sqlite3_memory_used() then reads 0. An
// application that opened a database first keeps its own setting.
#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>

#include <interlock/persistence/journal.hpp>

namespace interlock {

/// SQLite's PRAGMA synchronous levels (0..3).
enum class sync_mode { off, normal, full, extra };

struct sqlite_options {
  std::string path;                       // database file; created if missing
  sync_mode synchronous = sync_mode::full;
  int busy_timeout_ms = 5000;             // how long to wait for another writer
  // Keep a copy of the events clustered by aggregate and event type, so that a
  // read filtered by type (catch_up_by_type, `using aggregates`) costs what it
  // returns rather than a page per event; the events then take twice the
  // space. Once on, a file keeps it on for every connection; turning it on for
  // a file with events re-indexes them at this open.
  bool category_copies = false;
};

/// Opens (creating if needed) the journal file at `options.path`: applies the
/// pragmas, creates the schema if missing, checks its format version and its
/// bookkeeping (repairing the stream index, a cache, with a log line), and
/// folds the events after the folded mark, which checks them (a version stored
/// twice or a gap is logged as an error naming stream, version and positions).
/// errc::storage naming the path if the file cannot be opened or created, is
/// not a database, or is not of the current format;
/// errc::invalid_argument for an empty path or a negative busy timeout.
/// ":memory:" is refused (it cannot be in WAL mode); use memory_journal.hpp.
/// Opening takes the write lock briefly (to create the schema if missing), so
/// it may wait for another connection's append, up to busy_timeout_ms.
caf::expected<std::unique_ptr<journal>> open_sqlite_journal(const sqlite_options& options);

/// A factory whose every call opens a new connection to the same file.
journal_factory sqlite_journal_factory(sqlite_options options);

/// The settings a SQLite journal connection runs with, as SQLite reports them.
struct sqlite_settings {
  std::string journal_mode;  // "wal"
  int synchronous = 0;       // PRAGMA synchronous: 0 off, 1 normal, 2 full, 3 extra
  int busy_timeout_ms = 0;
};

/// The live settings of `j`'s connection (for diagnostics and tests);
/// errc::invalid_argument if `j` is not a SQLite journal.
caf::expected<sqlite_settings> settings_of(journal& j);

/// The one format this build reads and writes (journal_meta.format_version;
/// docs/journal-format.md). A file of an older format is refused at open with
/// an error that names the command that upgrades it (sqlite_upgrade.hpp).
inline constexpr int sqlite_journal_format_version = 7;

}  // namespace interlock
