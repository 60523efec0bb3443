// A durable read model rebuilt beside its tables, on the read store's
// thread (actors/projection_durable_rebuild.cpp is the projection's side).
// The shadow is a store of its own (read_store::open_shadow: a scratch file
// and connection), so building it never locks the tables in use: its
// chunks are catch-up jobs (job.shadow) that take turns with live chunks and
// queries in this actor's mailbox. The swap brings the shadow up to the
// position of the tables in use, then replaces them in one transaction of
// the read store (read_store::swap_in). Whatever fails, the shadow is dropped
// (its file deleted) and the tables in use stay as they were.
#include <interlock/actors/read_store_state.hpp>

namespace interlock::detail {

caf::result<caf::unit_t> open_shadow(read_store_self self, const instance_ptr& instance, const std::string& name) {
  auto& st = self->state;
  st.shadows.erase(name);  // one abandoned before: its file goes
  auto shadow = st.store->open_shadow(name);
  if (!shadow) return std::move(shadow.error());
  instance->attach(&(*shadow)->sql());
  if (auto err = atomically(**shadow, *instance, [&] { return instance->create_tables(); })) return err;
  st.shadows.emplace(name, std::move(*shadow));
  return caf::unit;
}

namespace {

// Where the tables in use stand: the shadow must reach at least that.
caf::expected<std::uint64_t> position_of(read_store& store, const std::string& name) {
  auto cp = store.load_checkpoint(name);
  if (!cp) return std::move(cp.error());
  return *cp ? (*cp)->position : 0;
}

}  // namespace

caf::result<std::uint64_t> swap_shadow(read_store_self self, const std::shared_ptr<catchup_job>& job) {
  auto& st = self->state;
  const auto& name = job->projection_name;
  auto it = st.shadows.find(name);
  if (it == st.shadows.end())
    return make_error(errc::unavailable, "the rebuild of projection " + name + " was abandoned");
  auto shadow = std::move(it->second);  // the rebuild ends here, swapped in or not
  st.shadows.erase(it);
  auto in_use = position_of(*st.store, name);
  if (!in_use) return std::move(in_use.error());
  auto built = position_of(*shadow, name);
  if (!built) return std::move(built.error());
  job->position = *built;
  job->next_position = *built + 1;
  // Events the tables in use took while the shadow caught up: the shadow
  // applies them too, so that neither misses one or has one twice.
  if (auto err = catch_up_to(self, *shadow, *job, *in_use)) return err;
  if (job->position < *in_use)
    return make_error(errc::storage, "the rebuild of projection " + name + " ends at position " +
                                         std::to_string(job->position) + ", before the tables in use (" +
                                         std::to_string(*in_use) + ")");
  if (auto err = st.store->swap_in(name, *shadow, job->position)) return err;
  job->instance->attach(&st.store->sql());
  return job->position;
}

}  // namespace interlock::detail
