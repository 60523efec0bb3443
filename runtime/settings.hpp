// The runtime's settings, configured through CAF's own configuration: one INI
// file and one command line set up CAF and the runtime together.
//
//   caf::actor_system_config cfg;
//   interlock::add_options(cfg);                      // before cfg.parse
//   if (auto err = cfg.parse(argc, argv)) { print describe_config_error(err, cfg); exit 2 }
//   if (cfg.cli_helptext_printed) return 0;           // --help, --long-help
//   caf::actor_system sys{cfg};
//   auto app = interlock::application_builder{sys}.aggregate<A>().build();  // reads them
//
// In the INI file (caf-application.ini, or --config-file=FILE):
//   [interlock.journal]
//   max_batch = 64
//   synchronous = "normal"     ; CAF's INI: strings quoted, comments after ';'
// On the command line: --interlock.journal.max_batch=64. Every key with its
// default and what it accepts: --long-help, and config/README.md.
// Precedence, lowest first: runtime_settings{} < the INI file < the command
// line < the builder's methods (settings(), sqlite(), postgres(), in_memory()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <interlock/persistence/sqlite_journal.hpp>  // sync_mode

namespace interlock {

/// Runtime settings with their defaults (INI keys: config/README.md).
struct runtime_settings {
  std::string database_path = "data/interlock.db";
  sync_mode synchronous = sync_mode::full;
  bool in_memory = false;
  // The journal on a PostgreSQL server when set (and in_memory is not): its
  // libpq URL, and the schema its tables live in (postgres_journal.hpp).
  std::string postgres_url;
  std::string postgres_schema = "interlock";
  bool category_copies = false;  // SQLite: copies clustered by type, for reads filtered by type (twice the space)
  std::size_t max_batch = 1024;                           // appends committed in one transaction, at most
  std::chrono::microseconds group_commit_wait{0};         // how long the first append of a batch waits for more
  std::size_t read_batch = 4096;                          // events per read during recovery / catch-up
  std::chrono::milliseconds journal_timeout{30'000};      // journal reads (recovery, catch-up); appends have none
  // How long other processes' appends to the same journal may go unseen by
  // this one's projections, at most (PostgreSQL tells at once; this is the
  // poll behind it, and SQLite's only way); 0: not followed.
  std::chrono::milliseconds follow_poll{500};
  std::size_t client_window = 1024;                       // commands in flight from the application's client actor
  // Aggregate lifecycle (an aggregate type's own declarations take precedence).
  std::uint64_t snapshot_every = 0;                       // events between snapshots; 0: no snapshots
  std::size_t snapshot_keep = 2;                          // snapshots kept per stream (the newest)
  std::chrono::milliseconds passivate_after{300'000};     // an aggregate idle this long stops; 0: never
  std::size_t max_live_aggregates = 100'000;              // live aggregate actors, at most (LRU passivated); 0: no cap
  std::size_t conflict_retries = 3;                       // reload + rerun of a command whose append conflicted
  // Read side: projections' checkpoints and read-model snapshots (persistence/read_store.hpp).
  // Where, first match: read_store_in_memory; read_store_path (a SQLite file);
  // on a PostgreSQL journal, the schema read_store_postgres_schema on its
  // server ("": the journal's schema + "_read"); beside a SQLite journal's file;
  // with an in-memory journal, in memory.
  std::string read_store_path;  // SQLite file; empty: as above
  bool read_store_in_memory = false;
  std::string read_store_postgres_schema;
  std::string log_level;  // quiet | error | warning | info | debug; empty: keep set_log_level()'s (default warning)

  bool operator==(const runtime_settings&) const = default;
};

/// Registers every runtime option in `cfg` as interlock.SECTION.KEY, with its
/// default and what it accepts in the help text. Call before cfg.parse().
void add_options(caf::actor_system_config& cfg);

/// The runtime settings in `cfg.content` (what cfg.parse() read):
/// `base` with every interlock.* value found applied, checked. Fails with
/// errc::invalid_argument naming the key for an unknown key under interlock
/// ("did you mean ...?"), a bad value, or a contradiction (an empty
/// database_path outside memory). application_builder{sys} calls it.
caf::expected<runtime_settings> settings_from(const caf::actor_system_config& cfg, runtime_settings base = {});

/// An error of cfg.parse() in one line that says what to fix: the option, or
/// the INI file and line, and for an unknown --interlock.* option the nearest key.
std::string describe_config_error(const caf::error& err, const caf::actor_system_config& cfg);

}  // namespace interlock
