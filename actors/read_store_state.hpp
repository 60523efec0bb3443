// The read store actor's state, and the steps its files share. Internal to
// actors/read_store_actor.cpp (the messages), actors/read_store_catchup.cpp
// (applying the journal to a durable read model, a chunk a transaction) and
// actors/read_store_shadow.cpp (rebuilding one beside its tables).
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include <interlock/actors/apply_pipeline.hpp>
#include <interlock/actors/messages.hpp>
#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/read_store.hpp>
#include <interlock/persistence/upcaster.hpp>

namespace interlock::detail {

struct read_store_state {
  std::unique_ptr<read_store> store;
  std::unique_ptr<journal> log;  // durable catch-ups read it
  std::size_t chunk = 4096;      // events per transaction of a catch-up
  std::shared_ptr<const upcaster_chain> upcasters;
  event_envelope scratch;
  apply_pipeline read_ahead{1};  // reads a catch-up's next chunk while this thread applies one
  std::shared_ptr<std::atomic<bool>> stopping;  // set when the application stops: catch-ups end at their next chunk
  // Rebuilds under way, by projection: the store each one's tables are built
  // in (read_store::open_shadow). Destroyed, a shadow deletes its file.
  std::map<std::string, std::unique_ptr<read_store>> shadows;
  static inline const char* name = "interlock.read_store";
};

using read_store_self = caf::stateful_actor<read_store_state>*;

// Runs `body` (returning a caf::error) in one transaction of `store`:
// committed if it succeeds, rolled back if it or the commit fails.
// `instance` (whose handlers ran in it) is told which, once it is over.
template <class Body>
caf::error atomically(read_store& store, projection_instance& instance, Body&& body) {
  if (auto err = store.begin()) return err;
  auto err = body();
  if (!err) err = store.commit();
  if (err) store.rollback();
  instance.transaction_ended(!err);
  return err;
}

// Runs `body` in a transaction that also saves `name`'s checkpoint at the
// position `body` returns; nothing of it stays if either fails.
template <class Body>
caf::expected<std::uint64_t> in_transaction(read_store& store, projection_instance& instance, const std::string& name,
                                            Body&& body) {
  std::uint64_t reached = 0;
  auto err = atomically(store, instance, [&]() -> caf::error {
    caf::expected<std::uint64_t> position = body();
    if (!position) return std::move(position.error());
    reached = *position;
    projection_checkpoint cp;
    cp.position = reached;
    return store.save_checkpoint(name, cp);
  });
  if (err) return err;
  return reached;
}

// actors/read_store_catchup.cpp
/// Applies `e` (upcast first) to projection `name`'s `instance` (its
/// `rebuild`'s); an error names the projection and the event.
caf::error apply_event(read_store_self self, projection_instance& instance, const std::string& name,
                       const event_view& e, bool rebuild = false);
/// The tables of `name` in `store` reflect the journal up to `expected`
/// (errc::storage otherwise: a projection that lost count would apply
/// events twice or skip some, silently).
caf::error check_position(read_store& store, const std::string& name, std::uint64_t expected);
/// (catchup_atom, job): applies the journal after job.position, a chunk a
/// transaction, to the projection's tables or, for a job.shadow, to its rebuild.
caf::result<void> catch_up(read_store_self self, std::shared_ptr<catchup_job> job);
/// Applies the journal after job.position to `store`, a chunk a transaction,
/// until job.position reaches `target` or the journal's end; here and now.
caf::error catch_up_to(read_store_self self, read_store& store, catchup_job& job, std::uint64_t target);

// actors/read_store_shadow.cpp
/// (shadow_open_atom, instance, name): a new shadow for `name`'s rebuild
/// (replacing one under way), its tables made by the instance's create().
caf::result<caf::unit_t> open_shadow(read_store_self self, const instance_ptr& instance, const std::string& name);
/// (shadow_swap_atom, job): brings the shadow of job.projection_name up to
/// the tables in use, swaps it in (read_store::swap_in), and answers the
/// position the tables now reflect. The rebuild ends either way.
caf::result<std::uint64_t> swap_shadow(read_store_self self, const std::shared_ptr<catchup_job>& job);

}  // namespace interlock::detail
