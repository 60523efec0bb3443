// Rewriting a SQLite journal of an older format into the current one
// (sqlite_journal_format_version). What `interlock-journal upgrade FILE` runs.
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

namespace interlock {

/// What an upgrade did.
struct upgrade_report {
  int from_format = 0;       // the format the file was in
  std::uint64_t events = 0;  // events copied (and checked)
  std::uint64_t streams = 0;
  std::string backup_path;   // where the original now is; empty if nothing was done
};

/// Upgrades the journal at `path`: copies it into `path.upgrading` in the
/// current format, checks the copy against the original event by event (and
/// every stream for gaps and duplicates), then keeps the original as
/// `path.format-N.bak` and puts the copy in its place. A file already in the
/// current format is left alone (no backup). Stop every process using the
/// file first. On failure the original is untouched, the copy removed, and the
/// error (errc::storage, or errc::corrupt_event for damaged events) names what
/// failed.
caf::expected<upgrade_report> upgrade_sqlite_journal(const std::string& path);

}  // namespace interlock
