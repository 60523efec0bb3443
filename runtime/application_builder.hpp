// Registers aggregates and projections and starts an application inside the
// user's actor system (the builder installs actors; it owns no actor_system).
//
//   caf::expected<interlock::application> app =
//       interlock::application_builder{sys}
//           .aggregate<BankAccount>()
//           .projection<Balances>()
//           .sqlite("data/bank.db")          // the default is data/interlock.db
//           .build();
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/runtime/application.hpp>
#include <interlock/runtime/detail/aggregate_model.hpp>
#include <interlock/runtime/detail/projection_model.hpp>
#include <interlock/runtime/middleware.hpp>

namespace interlock {

class upcaster_chain;  // persistence/upcaster.hpp

/// Runtime settings with their defaults.
struct runtime_settings {
  std::string database_path = "data/interlock.db";
  sync_mode synchronous = sync_mode::full;
  bool in_memory = false;
  std::size_t max_batch = 1024;                           // appends committed in one transaction, at most
  std::chrono::microseconds group_commit_wait{0};         // how long the first append of a batch waits for more
  std::size_t read_batch = 4096;                          // events per read during recovery / catch-up
  std::chrono::milliseconds journal_timeout{30'000};      // journal reads (recovery, catch-up); appends have none
  std::size_t client_window = 1024;                       // commands in flight from the application's client actor
  // Aggregate lifecycle (an aggregate type's own declarations take precedence).
  std::uint64_t snapshot_every = 0;                       // events between snapshots; 0: no snapshots
  std::size_t snapshot_keep = 2;                          // snapshots kept per stream (the newest)
  std::chrono::milliseconds passivate_after{300'000};     // an aggregate idle this long stops; 0: never
  std::size_t max_live_aggregates = 100'000;              // live aggregate actors, at most (LRU passivated); 0: no cap
  std::size_t conflict_retries = 3;                       // reload + rerun of a command whose append conflicted
  std::string log_level;  // quiet | error | warning | info | debug; empty: keep set_log_level()'s (default warning)
};

class application_builder {
 public:
  /// An application in an actor system of its own, tuned as tune() does
  /// (system_config.hpp), which lives as long as the application: for a
  /// program that is not a CAF application already.
  application_builder();
  /// An application in `sys`, the program's own CAF actor system, which must
  /// outlive the application.
  explicit application_builder(caf::actor_system& sys);

  /// Registers aggregate type T (its `commands` and `events` lists).
  template <class T>
  application_builder& aggregate() {
    aggregates_.push_back(detail::make_aggregate_kind<T>());
    return *this;
  }

  /// Registers projection type P, built as P{args...} at start and on rebuild.
  template <class P, class... Args>
  application_builder& projection(Args... args) {
    projections_.push_back(detail::make_projection_kind<P>([args...] { return P{args...}; }));
    return *this;
  }

  /// Journal in a SQLite file (the default: data/interlock.db, FULL sync).
  application_builder& sqlite(std::string path, sync_mode synchronous = sync_mode::full);
  /// Journal in memory: nothing survives the process (tests, --memory runs).
  application_builder& in_memory();
  /// Any journal implementation.
  application_builder& journal(journal_factory factory);
  /// Upcasters for events stored under older schemas (include
  /// <interlock/persistence/upcaster.hpp> to add them):
  ///   builder.upcasters().step<MoneyDeposited>(1, [](nlohmann::json p) { ...; return p; });
  /// build() refuses to start if a registered event type has no path from an
  /// older version it may have been stored at to its current one.
  upcaster_chain& upcasters() { return *upcasters_; }

  /// Adds `m` to the command pipeline (after those added before; see middleware.hpp).
  application_builder& use(std::shared_ptr<command_middleware> m) {
    middleware_.push_back(std::move(m));
    return *this;
  }

  /// Replaces every setting, the journal choice included: call sqlite() or
  /// in_memory() after it, not before.
  application_builder& settings(runtime_settings s);
  const runtime_settings& settings() const { return settings_; }

  /// Opens the journal and starts the actors. Fails with a clear error for an
  /// unusable database, a bad setting or a registration mistake (e.g. two
  /// aggregates that handle the same command type). It opens the database on
  /// the calling thread: build applications outside actors (main(), a test).
  caf::expected<application> build();

 private:
  std::shared_ptr<void> owned_system_;  // application_builder(): kept alive by the application it builds
  caf::actor_system* sys_;
  runtime_settings settings_;
  journal_factory factory_;
  std::vector<std::shared_ptr<const detail::aggregate_kind>> aggregates_;
  std::vector<std::shared_ptr<const detail::projection_kind>> projections_;
  std::shared_ptr<upcaster_chain> upcasters_;  // held by pointer: upcaster.hpp brings in nlohmann_json
  std::vector<std::shared_ptr<command_middleware>> middleware_;
};

}  // namespace interlock
