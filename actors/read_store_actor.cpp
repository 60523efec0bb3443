#include <interlock/actors/read_store_actor.hpp>

#include <interlock/actors/read_store_state.hpp>
#include <interlock/core/log.hpp>

namespace interlock {
namespace {

using detail::instance_ptr;
using self_ptr = detail::read_store_self;
using detail::apply_event;
using detail::atomically;
using detail::check_position;
using detail::in_transaction;

caf::result<caf::unit_t> done(caf::error err) {
  if (err) return err;
  return caf::unit;
}

caf::result<std::uint64_t> open_durable(self_ptr self, const instance_ptr& instance, const std::string& name) {
  auto& store = *self->state.store;
  instance->attach(&store.sql());
  std::uint64_t position = 0;
  auto opened = in_transaction(store, *instance, name, [&]() -> caf::expected<std::uint64_t> {
    if (auto err = instance->create_tables()) return err;
    auto cp = store.load_checkpoint(name);
    if (!cp) return std::move(cp.error());
    if (*cp && !(*cp)->state.empty()) {  // a snapshot of the type when it kept its read model in memory
      if (auto err = instance->reset_tables()) return err;
      log(log_level::warning, "projection " + name + ": its checkpoint is a read-model snapshot, not a position "
                              "of its tables: emptied them with reset(), applying the journal from position 0");
    } else if (*cp) {
      position = (*cp)->position;
    }
    return position;
  });
  if (!opened) return std::move(opened.error());
  return *opened;
}

// Live events of positions (after, through], those of other types left out.
caf::result<std::uint64_t> apply_live(self_ptr self, const instance_ptr& instance, const std::string& name,
                                      const std::vector<stored_event>& events, std::uint64_t after,
                                      std::uint64_t through) {
  auto applied = in_transaction(*self->state.store, *instance, name, [&]() -> caf::expected<std::uint64_t> {
    if (auto err = check_position(*self->state.store, name, after)) return err;
    for (auto& e : events)
      if (auto err = apply_event(self, *instance, name, view_of(e))) return err;
    return through;
  });
  if (!applied) return std::move(applied.error());
  return *applied;
}

caf::result<detail::erased_answer> answer(self_ptr self, const instance_ptr& instance, const std::string& name,
                                          const detail::erased_query& q) {
  auto out = instance->answer(q);
  if (out.error) return std::move(out.error);
  auto cp = self->state.store->load_checkpoint(name);
  return detail::erased_answer{std::move(out.result), cp && *cp ? (*cp)->position : 0};
}

// A parked event applied now, out of order, and unparked in the same transaction.
caf::result<caf::unit_t> replay_parked(self_ptr self, const instance_ptr& instance, const std::string& name,
                                       const stored_event& e) {
  auto& store = *self->state.store;
  return done(atomically(store, *instance, [&] {
    auto err = apply_event(self, *instance, name, view_of(e));
    return err ? err : store.unpark(name, e.position);
  }));
}

caf::result<caf::unit_t> reset(self_ptr self, const instance_ptr& instance, const std::string& name) {
  auto& store = *self->state.store;
  return done(atomically(store, *instance, [&] {
    auto err = instance->reset_tables();
    return err ? err : store.remove_checkpoint(name);
  }));
}

caf::behavior read_store_actor(self_ptr self, std::shared_ptr<std::unique_ptr<read_store>> store,
                               std::shared_ptr<std::unique_ptr<journal>> log, std::size_t chunk,
                               std::shared_ptr<const upcaster_chain> upcasters,
                               std::shared_ptr<std::atomic<bool>> stopping) {
  auto& st = self->state;
  st.stopping = std::move(stopping);
  st.store = std::move(*store);
  st.log = std::move(*log);
  st.chunk = std::max<std::size_t>(1, chunk);
  st.upcasters = upcasters ? std::move(upcasters) : std::make_shared<const upcaster_chain>();
  return {
      [=](checkpoint_load_atom, const std::string& name) -> caf::result<detail::checkpoint_ptr> {
        auto found = self->state.store->load_checkpoint(name);
        if (!found) return std::move(found.error());
        if (!*found) return detail::checkpoint_ptr{};
        return std::make_shared<const projection_checkpoint>(std::move(**found));
      },
      [=](checkpoint_save_atom, const std::string& name, const detail::checkpoint_ptr& cp) {
        return done(self->state.store->save_checkpoint(name, *cp));
      },
      [=](checkpoint_drop_atom, const std::string& name) { return done(self->state.store->remove_checkpoint(name)); },
      [=](durable_open_atom, const instance_ptr& instance, const std::string& name) {
        return open_durable(self, instance, name);
      },
      [=](catchup_atom, std::shared_ptr<detail::catchup_job>& job) { return detail::catch_up(self, std::move(job)); },
      [=](shadow_open_atom, const instance_ptr& instance, const std::string& name) {
        return detail::open_shadow(self, instance, name);
      },
      [=](shadow_swap_atom, const std::shared_ptr<detail::catchup_job>& job) { return detail::swap_shadow(self, job); },
      [=](durable_apply_atom, const instance_ptr& instance, const std::string& name,
          const std::vector<stored_event>& events, std::uint64_t after, std::uint64_t through) {
        return apply_live(self, instance, name, events, after, through);
      },
      [=](durable_query_atom, const instance_ptr& instance, const std::string& name, const detail::erased_query& q) {
        return answer(self, instance, name, q);
      },
      [=](park_atom, const std::string& name, const parked_event& e) {
        return done(self->state.store->park(name, e));
      },
      [=](parked_atom, const std::string& name) -> caf::result<std::vector<parked_event>> {
        auto all = self->state.store->parked(name);
        if (!all) return std::move(all.error());
        return std::move(*all);
      },
      [=](unpark_atom, const std::string& name, std::uint64_t position) {
        return done(self->state.store->unpark(name, position));
      },
      [=](durable_replay_atom, const instance_ptr& instance, const std::string& name, const stored_event& e) {
        return replay_parked(self, instance, name, e);
      },
      [=](durable_move_atom, const std::string& name, std::uint64_t position) {
        projection_checkpoint cp;
        cp.position = position;
        return done(self->state.store->save_checkpoint(name, cp));
      },
      [=](durable_reset_atom, const instance_ptr& instance, const std::string& name) {
        return reset(self, instance, name);
      },
      [=](store_job_atom, const instance_ptr& instance, const detail::store_job_ptr& job) {
        auto& store = *self->state.store;
        instance->attach(&store.sql());
        return done(atomically(store, *instance, [&] {
          try {  // a user's factory or handler: its exception must not end the read store
            return (*job)();
          } catch (const std::exception& ex) {
            return make_error(errc::rejected, std::string{"a process's step threw: "} + ex.what());
          } catch (...) {
            return make_error(errc::rejected, "a process's step threw");
          }
        }));
      },
  };
}

}  // namespace

caf::actor spawn_read_store_actor(caf::actor_system& sys, std::unique_ptr<read_store> store,
                                  std::unique_ptr<journal> log, std::size_t chunk,
                                  std::shared_ptr<const upcaster_chain> upcasters,
                                  std::shared_ptr<std::atomic<bool>> stopping) {
  auto store_holder = std::make_shared<std::unique_ptr<read_store>>(std::move(store));
  auto log_holder = std::make_shared<std::unique_ptr<journal>>(std::move(log));
  return sys.spawn<caf::detached>(read_store_actor, store_holder, log_holder, chunk, std::move(upcasters),
                                  std::move(stopping));
}

}  // namespace interlock
