#include <interlock/actors/read_store_actor.hpp>

#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

struct read_store_state {
  std::unique_ptr<read_store> store;
  static inline const char* name = "interlock.read_store";
};

using self_ptr = caf::stateful_actor<read_store_state>*;

caf::behavior read_store_actor(self_ptr self, std::shared_ptr<std::unique_ptr<read_store>> holder) {
  self->state.store = std::move(*holder);
  return {
      [=](checkpoint_load_atom, const std::string& name) -> caf::result<detail::checkpoint_ptr> {
        auto found = self->state.store->load_checkpoint(name);
        if (!found) return std::move(found.error());
        if (!*found) return detail::checkpoint_ptr{};
        return std::make_shared<const projection_checkpoint>(std::move(**found));
      },
      [=](checkpoint_save_atom, const std::string& name, const detail::checkpoint_ptr& cp) -> caf::result<caf::unit_t> {
        if (auto err = self->state.store->save_checkpoint(name, *cp)) return err;
        return caf::unit;
      },
      [=](checkpoint_drop_atom, const std::string& name) -> caf::result<caf::unit_t> {
        if (auto err = self->state.store->remove_checkpoint(name)) return err;
        return caf::unit;
      },
  };
}

}  // namespace

caf::actor spawn_read_store_actor(caf::actor_system& sys, std::unique_ptr<read_store> store) {
  auto holder = std::make_shared<std::unique_ptr<read_store>>(std::move(store));
  return sys.spawn<caf::detached>(read_store_actor, holder);
}

}  // namespace interlock
