// The heart of a durable read model's rebuild: the tables built in the
// shadow (read_store::open_shadow) replace the ones in use. Internal to
// persistence/; sqlite_read_store.cpp runs it inside its transaction, with the
// shadow attached. The caller sets the checkpoint in the same transaction.
#pragma once

#include <string>

#include <caf/error.hpp>

namespace interlock {
class read_db;
}

namespace interlock::detail {

/// The read store's own tables: never copied, never replaced.
bool is_store_table(const std::string& name);

/// On `db` (the read store's connection, inside its transaction), for every
/// object of the database attached as `schema`, in the order they were
/// created, the store's own tables and SQLite's aside:
///  - a table (also a virtual one; not the tables a virtual table keeps
///    for itself): main's object of that name is dropped (a table takes
///    its indexes and triggers with it), the table is created with the
///    shadow's SQL, and its rows copied (with their rowids, where it has
///    them; AUTOINCREMENT's counter too);
///  - then each index, view and trigger: main's object of that name is
///    dropped, and it is created with the shadow's SQL.
/// Objects of main the shadow does not have stay as they are.
/// errc::storage naming the statement if one fails (the caller rolls back).
caf::error copy_shadow_schema(read_db& db, const std::string& schema);

}  // namespace interlock::detail
