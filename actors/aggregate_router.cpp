#include <interlock/actors/aggregate_router.hpp>

#include <unordered_map>

#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

struct router_state {
  std::unordered_map<std::string, std::shared_ptr<const detail::aggregate_kind>> kinds;
  aggregate_context ctx;
  std::unordered_map<std::string, caf::actor> live;  // key: type '\x1f' id
  std::unordered_map<caf::actor_addr, std::string> keys;
  static inline const char* name = "interlock.aggregate_router";
};

using self_ptr = caf::stateful_actor<router_state>*;

std::string key_of(const detail::erased_command& cmd) { return cmd.aggregate_type + '\x1f' + cmd.aggregate_id; }

caf::expected<caf::actor> find_or_spawn(self_ptr self, const detail::erased_command& cmd) {
  auto& st = self->state;
  auto key = key_of(cmd);
  if (auto it = st.live.find(key); it != st.live.end()) return it->second;
  auto kind = st.kinds.find(cmd.aggregate_type);
  if (kind == st.kinds.end())
    return make_error(errc::unknown_command, "no aggregate type " + cmd.aggregate_type + " is registered");
  auto actor = spawn_aggregate_actor(self, kind->second, cmd.aggregate_id, st.ctx);
  self->monitor(actor);
  st.keys.emplace(actor.address(), key);
  st.live.emplace(std::move(key), actor);
  return actor;
}

caf::behavior aggregate_router(self_ptr self, std::vector<std::shared_ptr<const detail::aggregate_kind>> kinds,
                               aggregate_context ctx) {
  for (auto& k : kinds) self->state.kinds.emplace(k->type_name, k);
  self->state.ctx = std::move(ctx);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (auto it = st.keys.find(dm.source); it != st.keys.end()) {
      st.live.erase(it->second);
      st.keys.erase(it);
    }
  });
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& [key, actor] : self->state.live) self->send_exit(actor, em.reason);
    self->quit(em.reason);
  });
  return {
      [=](detail::erased_command& cmd) -> caf::result<detail::erased_reply> {
        if (cmd.aggregate_id.empty())
          return make_error(errc::invalid_argument, "command " + cmd.command_type + " has an empty aggregate id");
        auto target = find_or_spawn(self, cmd);
        if (!target) return std::move(target.error());
        auto rp = self->make_response_promise();
        rp.delegate(*target, std::move(cmd));
        return rp;
      },
  };
}

}  // namespace

caf::actor spawn_aggregate_router(caf::actor_system& sys,
                                  std::vector<std::shared_ptr<const detail::aggregate_kind>> kinds,
                                  aggregate_context ctx) {
  return sys.spawn(aggregate_router, std::move(kinds), std::move(ctx));
}

}  // namespace interlock
