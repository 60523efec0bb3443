// The read side's store: where projections keep their checkpoints (the global
// position their read model reflects) and read-model snapshots. It is not the
// journal's file: a snapshot of a large read model must never hold the lock
// the journal writer's group commits take.
//
// Contract shared by every implementation (tests/read_store_conformance_test.cpp):
//  - save_checkpoint() replaces a projection's checkpoint in one transaction:
//    a reader sees the old one or the new one, never a mix.
//  - load_checkpoint() returns what the last successful save stored, or none
//    (never saved, or removed).
//  - Between begin() and commit(), the checkpoints saved and what sql() did
//    become visible together, or (rollback(), a crash) not at all.
//  - What is stored as text is valid UTF-8 of at most 1,024 bytes for a
//    name, and valid UTF-8 for a state: otherwise errc::invalid_argument
//    naming the projection; nothing is stored.
// A store object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace interlock {

class read_db;

/// Where a projection stands: the last global position its read model
/// reflects, and, for an in-memory read model that keeps snapshots, the read
/// model itself as JSON as of that position.
struct projection_checkpoint {
  std::uint64_t position = 0;
  std::uint32_t state_version = 1;  // of the state's JSON (the projection type's state_version)
  std::string state;                // JSON text; empty: no snapshot, the position alone
  std::int64_t saved_at_us = 0;     // set by the store when it saves
};

/// An event a projection's handler kept failing on, passed over so that the
/// projection could go on (a projection type's poison policy: park).
struct parked_event {
  std::uint64_t position = 0;
  std::string stream;      // "Type/id"
  std::uint64_t version = 0;
  std::string event_type;
  std::string error;       // the last failure, naming the event
  std::uint32_t attempts = 0;
  std::int64_t parked_at_us = 0;  // set by the store when it stores it
};

class read_store {
 public:
  virtual ~read_store() = default;

  /// Projection `name`'s checkpoint, or none if it has none.
  virtual caf::expected<std::optional<projection_checkpoint>> load_checkpoint(std::string_view name) = 0;
  /// Stores `cp` as `name`'s checkpoint, replacing the one before.
  virtual caf::error save_checkpoint(std::string_view name, const projection_checkpoint& cp) = 0;
  /// Forgets `name`'s checkpoint (its next start is from position 0).
  virtual caf::error remove_checkpoint(std::string_view name) = 0;
  /// Every checkpoint, by name in ascending order (for status and tools).
  virtual caf::expected<std::vector<std::pair<std::string, projection_checkpoint>>> checkpoints() = 0;

  /// Records `e` as parked by `name` (replacing a record of the same position).
  virtual caf::error park(std::string_view name, const parked_event& e) = 0;
  /// `name`'s parked events, by position.
  virtual caf::expected<std::vector<parked_event>> parked(std::string_view name) = 0;
  /// Forgets the parked event at `position` (replayed).
  virtual caf::error unpark(std::string_view name, std::uint64_t position) = 0;

  /// Durable read models: the store's SQL connection, whose changes between
  /// begin() and commit() are atomic with the checkpoints saved between them.
  virtual read_db& sql() = 0;
  virtual caf::error begin() = 0;
  virtual caf::error commit() = 0;
  /// Undoes what was done since begin(); harmless without a transaction.
  virtual void rollback() = 0;

  /// Durable read models' rebuilds (docs/design.md): a new, empty store of
  /// the same kind beside this one, in which projection `name`'s tables are
  /// built again while this store's keep answering. Its own connection and
  /// file (PostgreSQL: schema); destroying it deletes it. A store left by a
  /// crash is deleted when this one opens. The default:
  /// errc::invalid_argument (not supported).
  virtual caf::expected<std::unique_ptr<read_store>> open_shadow(std::string_view name);
  /// In one transaction: every table `shadow` (from open_shadow()) holds,
  /// with its rows, indexes, views and triggers, replaces the object of the
  /// same name in this store (the store's own tables aside); `name`'s
  /// checkpoint becomes `position`, and its parked events up to `position`
  /// are forgotten. Nothing changes if it fails. Not inside begin()/commit().
  virtual caf::error swap_in(std::string_view name, read_store& shadow, std::uint64_t position);
};

/// Opens a new store; called on the application's thread at build().
using read_store_factory = std::function<caf::expected<std::unique_ptr<read_store>>()>;

/// The read store beside a journal file: "data/bank.db" -> "data/bank.read.db"
/// (a name without ".db" gets ".read.db" appended).
std::string read_store_path_for(const std::string& journal_path);

}  // namespace interlock
