// The SQLite journal's one on-disk format: its tables, and how a connection
// creates them in a new file or recognises them in an existing one.
// Internal to the SQLite journal; docs/journal-format.md describes the format.
#pragma once

#include <string>

#include <caf/error.hpp>

#include <interlock/persistence/sqlite_db.hpp>

namespace interlock::sqlite {

/// The current format's tables, views and metadata rows (format_version,
/// folded_position), for a new, empty file.
const char* schema_sql();

/// Inside a write transaction on `db`: creates the current format in an empty
/// file, or checks that the file is a journal of the current format. An error
/// names `path` and, for a journal of an older format, the command that
/// upgrades it; errc::storage either way.
caf::error create_or_check_schema(connection& db, const std::string& path);

/// The format_version of the journal in `db`; 0 if it has none (not a journal).
int read_format_version(connection& db);

}  // namespace interlock::sqlite
