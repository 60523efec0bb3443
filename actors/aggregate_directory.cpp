#include <interlock/actors/aggregate_directory.hpp>

namespace interlock::detail {

void aggregate_directory::drop_if_unused(shard& s, entry_iterator it) {
  if (!it->second.actor && it->second.in_router == 0) s.entries.erase(it);
}

void aggregate_directory::settle(const std::string& type, const std::string& id) {
  auto& shard = shard_of(id);
  std::lock_guard guard{shard.mutex};
  auto it = shard.entries.find(aggregate_key_view{type, id});
  if (it == shard.entries.end() || it->second.in_router == 0) return;
  --it->second.in_router;
  drop_if_unused(shard, it);
}

void aggregate_directory::add(const std::string& type, const std::string& id, caf::actor actor) {
  auto& shard = shard_of(id);
  std::lock_guard guard{shard.mutex};
  auto& e = shard.entries[aggregate_key{type, id}];
  e.actor = std::move(actor);
  e.last_used = {};
}

void aggregate_directory::remove(const std::string& type, const std::string& id, const std::function<void()>& then) {
  auto& shard = shard_of(id);
  std::lock_guard guard{shard.mutex};
  if (auto it = shard.entries.find(aggregate_key_view{type, id}); it != shard.entries.end()) {
    it->second.actor = caf::actor{};
    drop_if_unused(shard, it);
  }
  if (then) then();
}

void aggregate_directory::remove_if(const std::string& type, const std::string& id, const caf::actor_addr& actor) {
  auto& shard = shard_of(id);
  std::lock_guard guard{shard.mutex};
  auto it = shard.entries.find(aggregate_key_view{type, id});
  if (it == shard.entries.end() || it->second.actor.address() != actor) return;
  it->second.actor = caf::actor{};
  drop_if_unused(shard, it);
}

aggregate_directory::clock_type::time_point aggregate_directory::last_used(const std::string& type,
                                                                           const std::string& id) {
  auto& shard = shard_of(id);
  std::lock_guard guard{shard.mutex};
  auto it = shard.entries.find(aggregate_key_view{type, id});
  return it == shard.entries.end() || !it->second.actor ? clock_type::time_point{} : it->second.last_used;
}

bool aggregate_directory::listed(const std::string& type, const std::string& id) {
  auto& shard = shard_of(id);
  std::lock_guard guard{shard.mutex};
  auto it = shard.entries.find(aggregate_key_view{type, id});
  return it != shard.entries.end() && it->second.actor;
}

void aggregate_directory::clear() {
  for (auto& shard : shards_) {
    std::lock_guard guard{shard.mutex};
    shard.entries.clear();
  }
}

}  // namespace interlock::detail
