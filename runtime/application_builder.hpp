// Registers aggregates, projections, processors and sagas, and starts an application, in an actor
// system of its own or in the user's (whose CAF config then also holds the
// runtime's settings: settings.hpp).
//
//   caf::expected<interlock::application> app =
//       interlock::application_builder{sys}
//           .aggregate<BankAccount>()
//           .projection<Balances>()
//           .sqlite("data/bank.db")          // the default is data/interlock.db; or .postgres(url)
//           .build();
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <interlock/model/middleware.hpp>
#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/postgres_journal.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/runtime/application.hpp>
#include <interlock/runtime/detail/aggregate_model.hpp>
#include <interlock/runtime/detail/process_model.hpp>
#include <interlock/runtime/detail/projection_model.hpp>
#include <interlock/runtime/settings.hpp>

namespace interlock {

class upcaster_chain;  // persistence/upcaster.hpp
namespace detail {
struct builder_access;  // builder_access.hpp: what the debug console reads of a builder
}

class application_builder {
 public:
  /// An application in an actor system of its own, tuned as tune() does
  /// (system_config.hpp), which lives as long as the application: for a
  /// program that is not a CAF application already.
  application_builder();
  /// An application in `sys`, the program's own CAF actor system, which must
  /// outlive the application. Its settings start as settings_from(sys.config()):
  /// the interlock.* keys of the INI file and command line (settings.hpp); if
  /// they are bad, build() returns that error.
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

  /// Registers event processor T (processor.hpp), built from `args` (its
  /// fields after the base, or its constructor's).
  template <class T, class... Args>
  application_builder& processor(Args... args) {
    add_process(detail::make_process_kind<T>([args...] { return make_process<T>(args...); }));
    return *this;
  }

  /// Registers saga T (saga.hpp); each conversation starts as one built
  /// from `args` (as for processor()).
  template <class T, class... Args>
  application_builder& saga(Args... args) {
    add_process(detail::make_process_kind<T>([args...] { return make_process<T>(args...); }));
    return *this;
  }

  /// Journal in a SQLite file (the default: data/interlock.db, FULL sync).
  application_builder& sqlite(std::string path, sync_mode synchronous = sync_mode::full);
  /// Journal on a PostgreSQL server: `url` is libpq's connection string
  /// (postgresql://user:password@host:5432/db), its tables in `schema`
  /// (created at the first start). The read side (projections' checkpoints,
  /// durable read models, sagas' state) goes to the same server, in schema
  /// `read_schema` ("": read_side.postgres_schema, whose "" is `schema` +
  /// "_read"), held by this process alone while it runs; unless
  /// read_side.database_path (a SQLite file) or read_side.in_memory is set.
  application_builder& postgres(std::string url, std::string schema = "interlock", std::string read_schema = "");
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

  /// Replaces every setting, the journal choice included: call sqlite(),
  /// postgres() or in_memory() after it, not before.
  application_builder& settings(runtime_settings s);
  const runtime_settings& settings() const { return settings_; }

  /// Opens the journal and starts the actors. Fails with a clear error for an
  /// unusable database, a bad setting or a registration mistake (e.g. two
  /// aggregates that handle the same command type). It opens the database on
  /// the calling thread: build applications outside actors (main(), a test).
  caf::expected<application> build();

 private:
  friend struct detail::builder_access;
  template <class T, class... Args>
  static T make_process(const Args&... args) {
    if constexpr (sizeof...(Args) == 0 || std::is_constructible_v<T, const Args&...>) return T(args...);
    else return T{{}, args...};  // an aggregate: its base first
  }
  void add_process(std::pair<std::shared_ptr<const detail::projection_kind>, std::shared_ptr<detail::process_link>> p);

  std::shared_ptr<void> owned_system_;  // application_builder(): kept alive by the application it builds
  caf::actor_system* sys_;
  runtime_settings settings_;
  caf::error config_error_;  // from sys.config(): build() reports it
  journal_factory factory_;
  std::vector<std::shared_ptr<const detail::aggregate_kind>> aggregates_;
  std::vector<std::shared_ptr<const detail::projection_kind>> projections_;  // processes and sagas too
  std::unordered_map<std::string, std::shared_ptr<detail::process_link>> processes_;  // by type name
  std::shared_ptr<upcaster_chain> upcasters_;  // held by pointer: upcaster.hpp brings in nlohmann_json
  std::vector<std::shared_ptr<command_middleware>> middleware_;
};

}  // namespace interlock
