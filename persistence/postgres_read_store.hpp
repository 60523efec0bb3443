// A read store on a PostgreSQL server (read_store.hpp's contract, checked by
// the same conformance suite as the SQLite and in-memory stores): its tables
// (projection_checkpoints, parked_events, read_store_meta, and the durable
// read models' own) in one schema of their own, the read schema, which is
// the connection's search_path: read_db's unqualified table names land there.
//
//  - One writer: while a factory's stores are open, a session advisory lock
//    on the read schema is held; another process (or factory) opening the
//    same read schema gets errc::storage naming it. Durable read models
//    written by two processes at once would apply each event twice: each
//    process of a deployment takes a read schema of its own.
//  - begin() ... commit() is one PostgreSQL transaction: checkpoints and the
//    read models' SQL commit together or not at all.
//  - Text cannot hold a NUL byte on PostgreSQL: a state holding one is
//    refused (errc::invalid_argument naming the projection).
//  - No call waits without a bound (`timeout` a round trip); a connection
//    that broke is replaced at the next begin() (the lock taken again).
//  - A durable read model's rebuild (open_shadow, swap_in) builds its new
//    tables in a shadow schema of its own on the same server
//    ("<read schema>_rebuild_<projection>_<hash>", marked as one by its
//    COMMENT; postgres/read_swap.hpp), on a connection of its own whose
//    search_path it is; its transactions check the read schema's lock as the
//    store's do. swap_in moves the shadow's tables (with their rows, indexes,
//    constraints, owned sequences and triggers), views, sequences, types and
//    routines into the read schema with ALTER ... SET SCHEMA, in one
//    transaction, after dropping the objects of the same names there without
//    CASCADE: an object of the read schema that stays (a foreign key, a view,
//    a default) and depends on one of them fails the swap, naming it, and
//    nothing changes. Shadow schemas a crash left are dropped when a factory
//    takes the read schema's lock.
#pragma once

#include <chrono>
#include <string>

#include <interlock/persistence/read_store.hpp>

namespace interlock {

struct postgres_read_options {
  /// libpq's connection string (postgres_journal.hpp).
  std::string url;
  /// The read schema (a lowercase SQL identifier), created if missing.
  std::string schema = "interlock_read";
  /// How long connecting or one round trip may take before it fails.
  std::chrono::milliseconds timeout{10'000};
};

/// The read schema beside journal schema `journal_schema`: "<it>_read".
std::string postgres_read_schema_for(const std::string& journal_schema);

/// A factory whose stores share one lock on the read schema (taken by the
/// first, let go with the last) and each have a connection of their own.
/// errc::invalid_argument for an empty URL or a bad schema name; errc::storage
/// for a server that cannot be reached or refuses, a schema another process
/// holds, or one that is not a read store of this format.
read_store_factory postgres_read_store_factory(postgres_read_options options);

}  // namespace interlock
