// Where a durable read model's rebuild keeps its tables until they are
// swapped in: a scratch database beside the read store, named after the read
// store and the projection. Internal to persistence/.
//
//   data/bank.read.db -> data/bank.read.db.rebuild-TransactionHistory.db
//   file:interlock-read-store-3?mode=memory&cache=shared
//     -> file:interlock-read-store-3.rebuild-TransactionHistory?mode=memory&cache=shared
//
// A projection name is kept as it is if it is short and made of letters,
// digits, '_', '-' and '.'; otherwise those other bytes become '_' and a hash
// of the whole name is appended, so two names never share a file.
#pragma once

#include <string>
#include <string_view>

namespace interlock::detail {

/// The scratch database of projection `name`'s rebuild beside `store_path`.
std::string shadow_path_for(const std::string& store_path, std::string_view name);

/// True for a path SQLite reads as a URI (an in-memory store): no files.
bool is_uri(const std::string& path);

/// Deletes the database at `path` and its -wal, -shm and -journal files, if
/// there are any (not for URIs). Quietly: a file that is not there is fine.
void remove_database_files(const std::string& path);

/// Deletes every rebuild's scratch file beside the read store at
/// `store_path` (a crash left them: their rebuild cannot go on), logging a
/// warning for each. Not for URIs.
void remove_leftover_shadows(const std::string& store_path);

}  // namespace interlock::detail
