// A journal on a PostgreSQL server (15 or later), behind journal.hpp's
// interface and contract, checked by the same conformance suite as the SQLite
// and in-memory journals.
//
// Its tables live in one schema (postgres_options::schema), created at the
// first open; several applications keep apart by schema on one database.
// Positions: one counter row (journal_head) is locked when a batch starts and
// advanced in the very statement that inserts the batch's events, so positions
// are assigned in commit order, a rolled-back batch gives its positions back,
// and a reader never sees position n+1 before n (docs/design.md, "Positions
// on PostgreSQL"). Several processes may append to one schema at once.
//
// Beyond journal.hpp's contract:
//  - Every error is an interlock error: errc::storage names the server
//    (host, port, database, user: never the password) and what happened
//    (refused at connect, refused credentials, went away, timed out, the
//    server's message and SQLSTATE); errc::conflict and invalid_argument as
//    the other journals give them.
//  - No call waits without a bound: connecting and every round trip give up
//    after `timeout`. A connection that broke or timed out is replaced by a
//    new one at the next call, so the journal works again once the server is
//    back. An append whose COMMIT went unanswered fails with errc::storage
//    although it may have committed (the aggregate then reloads its stream).
//  - A batch takes two round trips whatever its size: its checks, then its
//    writes as one pipeline, the events in one statement (arrays unnested);
//    one when the connection's last batch left the versions of all its
//    streams, none records a command and no other connection appended since
//    (docs/design.md, "A batch"). If the server refuses a request's data
//    (SQLSTATE class 22 or 23), the batch is tried again a request per
//    transaction: only that one fails.
//  - The connection speaks UTF-8 whatever the URL or PGCLIENTENCODING say.
//  - A schema of another format version is refused at open, naming both.
//  - Every batch with events notifies the channel named after the schema
//    with its last position (NOTIFY: delivered at COMMIT, in commit order).
//    open_watch() LISTENs there on a connection of its own, and reads the
//    counter row after each (re)connect and whenever `poll` passes without
//    a notification.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include <interlock/persistence/journal.hpp>

namespace interlock {

struct postgres_options {
  /// libpq's connection string: postgresql://user:password@host:port/db?... or
  /// "host=... dbname=..."; what it leaves out comes from the PG* environment.
  std::string url;
  /// The schema the journal's tables live in (a lowercase SQL identifier).
  std::string schema = "interlock";
  /// How long connecting or one round trip may take before it fails.
  std::chrono::milliseconds timeout{10'000};
};

/// Connects, creates the schema and its tables if missing (serialised by an
/// advisory lock, so several processes may open a fresh database at once) and
/// checks its format version. errc::storage naming the server if it cannot
/// be reached or refuses, or the schema is of another format;
/// errc::invalid_argument for an empty URL, a bad schema name or timeout.
caf::expected<std::unique_ptr<journal>> open_postgres_journal(const postgres_options& options);

/// A factory whose every call opens a new connection to the same schema.
journal_factory postgres_journal_factory(postgres_options options);

/// The one format this build reads and writes (journal_meta.format_version).
inline constexpr int postgres_journal_format_version = 2;

}  // namespace interlock
