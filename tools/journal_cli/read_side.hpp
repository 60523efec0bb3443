// The read side as a read store file holds it (persistence/sqlite_read_store.cpp):
// projection_checkpoints(projection, position, state_version, state, saved_at_us)
// and parked_events(projection, position, stream, version, event_type, error,
// attempts, parked_at_us), read for `stats`, `verify` and `projections`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "database.hpp"

namespace journal_cli {

struct checkpoint_row {
  std::string projection;
  std::uint64_t position = 0;
  std::int64_t state_version = 0;
  std::uint64_t state_bytes = 0;  // 0: the position alone, no snapshot of the read model
  std::int64_t saved_at_us = 0;
};

struct parked_row {
  std::string projection;
  std::uint64_t position = 0;
  std::string stream;
  std::uint64_t version = 0;
  std::string event_type;
  std::string error;
  std::int64_t attempts = 0;
  std::int64_t parked_at_us = 0;
};

/// Every checkpoint, by projection name.
std::vector<checkpoint_row> read_checkpoints(database& store);

/// Every parked event, by projection and position (none if the store has no parked_events table).
std::vector<parked_row> read_parked(database& store);

/// The read store to read for journal `journal_path`: `option` if given (it
/// must exist), else the file beside the journal if there is one, else none.
std::optional<database> read_store_for(const std::string& journal_path, const std::string& option);

}  // namespace journal_cli
