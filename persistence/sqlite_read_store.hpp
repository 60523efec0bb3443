// A read store in a SQLite file of its own (WAL mode), readable with the
// plain `sqlite3` shell: table projection_checkpoints(projection, position,
// state_version, state, saved_at_us).
//
// Durability: synchronous=NORMAL. A crash may lose the last checkpoints saved
// (the projection then catches up from an earlier one: more work, never a
// wrong read model), never tear one: a checkpoint and its state are one row,
// written in one transaction.
//
// Opening refuses, with errc::storage naming the file: a file that is not a
// read store (a journal given by mistake: it has an `events` table), and a
// read store of a format this code does not know.
#pragma once

#include <string>

#include <interlock/persistence/read_store.hpp>

namespace interlock {

/// Opens (creating if needed) the read store at `path`.
caf::expected<std::unique_ptr<read_store>> open_sqlite_read_store(const std::string& path);

/// A factory for open_sqlite_read_store(path).
read_store_factory sqlite_read_store_factory(std::string path);

}  // namespace interlock
