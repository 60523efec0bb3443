// How the actors drive a user's projection type without knowing it: a
// projection_instance per read model, made by its type's projection_kind.
// runtime/detail/projection_model.hpp implements both for a user's type.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <interlock/core/event_envelope.hpp>
#include <interlock/model/erased.hpp>
#include <interlock/model/event_binding.hpp>
#include <interlock/persistence/journal.hpp>

namespace interlock {
class read_db;

/// What a projection does with an event its handler keeps failing on, after
/// its retries (a projection type declares `static constexpr
/// interlock::poison_policy on_poison = ...;`).
enum class poison_policy {
  stop,  // the projection stops with the error, naming the event (the default)
  park,  // the event is recorded as parked (application::parked_events) and passed over
};
}

namespace interlock::detail {

struct query_outcome {
  caf::error error;
  std::shared_ptr<const void> result;
};

class projection_instance {
 public:
  virtual ~projection_instance() = default;
  /// Applies a committed event if the projection consumes its type; other
  /// types are skipped. Errors name stream, version and type.
  /// `scratch` is reused across calls to hand handlers an envelope without
  /// allocating per event.
  virtual caf::error apply(const event_view& e, event_envelope& scratch) = 0;
  virtual query_outcome answer(const erased_query& q) = 0;
  /// Whether a handler takes the envelope (and so may read the command,
  /// correlation and causation ids); catch-up skips reading them otherwise.
  virtual bool reads_ids() const = 0;
  /// Durable read models only: the read store's SQL connection, which its
  /// handlers get from now on (apply and answer run on the read store's thread).
  virtual void attach(read_db* db) = 0;
  /// Durable read models only: runs the type's create(read_db&) (its tables),
  /// in the read store's transaction; nothing if it has none.
  virtual caf::error create_tables() = 0;
  /// Durable read models only: runs the type's reset(read_db&) (empties its
  /// tables, for a rebuild); errc::invalid_argument if it has none.
  virtual caf::error reset_tables() = 0;
  /// The read model as JSON text (a read-model snapshot); errc::schema_mismatch
  /// if the type has no JSON form, errc::invalid_argument for text that is not UTF-8.
  virtual caf::expected<std::string> snapshot() const = 0;
  /// Durable read models: called on the read store's thread when a
  /// transaction it took part in ends (committed, or rolled back). Processes
  /// hand the commands a step decided to their driver only once stored.
  virtual void transaction_ended(bool /*committed*/) {}
};

/// One registered projection type. `make` builds a fresh, empty read model
/// (used at start and for rebuilds); `restore` one from a snapshot's JSON.
struct projection_kind {
  std::string type_name;  // also its name in the read store
  std::uint64_t snapshot_every = 0;  // events between read-model snapshots; 0: none, rebuilt at each start
  std::uint32_t state_version = 1;   // of the snapshots' JSON
  poison_policy on_poison = poison_policy::stop;
  std::uint32_t poison_retries = 3;                // attempts after the first, before on_poison
  std::chrono::milliseconds poison_backoff{100};   // before the first retry; doubled for each next one
  bool durable = false;  // its read model is in the read store's tables (its handlers take read_db&)
  // Durable only: a rebuild empties its rows with reset_tables() and applies
  // the journal again in place, instead of building new tables beside them
  // (processes: their tables are the runtime's, shared by every process).
  bool rebuild_in_place = false;
  // A subscription: the names its events are stored under (the builder adds
  // the older names upcasters rename or split), and the aggregate types it
  // reads (`using aggregates`; empty: all). Live events of other types are
  // passed over; a catch-up by type reads only these through the journal's
  // type index (`aggregates` implies it).
  bool catch_up_by_type = false;
  std::vector<std::string> stored_event_types;
  std::vector<std::string> aggregate_types;
  /// What a catch-up reads: the subscription, or (empty) the whole log.
  log_filter catch_up_filter() const {
    return catch_up_by_type ? log_filter{aggregate_types, stored_event_types} : log_filter{};
  }
  /// Whether a live event is one of its subscription's.
  bool subscribes_to(std::string_view aggregate_type, std::string_view event_type) const {
    const auto listed = [](const std::vector<std::string>& list, std::string_view value) {
      return std::find(list.begin(), list.end(), value) != list.end();
    };
    return (aggregate_types.empty() || listed(aggregate_types, aggregate_type)) &&
           listed(stored_event_types, event_type);
  }
  std::string registration_error;  // non-empty: build() refuses the application with it
  std::vector<std::string> query_types;
  std::vector<event_binding> event_types;
  std::function<std::unique_ptr<projection_instance>()> make;
  std::function<caf::expected<std::unique_ptr<projection_instance>>(std::string_view json)> restore;
};

}  // namespace interlock::detail
