// The live aggregate actors, readable from any thread, so that a command for an
// aggregate whose actor is running goes straight to it instead of through the
// router: one message hop less per command, and no single actor that every
// command must pass.
//
// Contract:
// - A command goes straight to the aggregate's actor only if the directory
//   lists the actor and no command for that aggregate is still on its way
//   through the router; otherwise it goes to the router, counted until the
//   router has passed it on (settle()). So a direct send never overtakes an
//   earlier command from the same sender: per sender, commands keep their order.
// - Only the router lists and unlists actors. It lists an actor after handing
//   it the command that started it, and unlists it (under the same lock) right
//   before sending it passivate_atom: a direct command is in the actor's
//   mailbox before passivate_atom, and served.
// - send() records when the aggregate was last used, so the router's idle
//   sweep and live-actor cap see the commands it did not route.
// - A listed actor may just have died on its own (the router unlists it when
//   the down message arrives). A command sent to it then fails the same way as
//   one the router would have forwarded to it.
// Internal.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>

#include <interlock/actors/aggregate_key.hpp>

namespace interlock::detail {

class aggregate_directory {
 public:
  using clock_type = std::chrono::steady_clock;

  /// Calls `send(target, counted)` once, under the aggregate's lock: with its
  /// live actor, or with `router` and counted = true (the router must then
  /// call settle() once it has passed the command on).
  template <class Send>
  void send(const std::string& type, const std::string& id, const caf::actor& router, Send&& send) {
    auto& shard = shard_of(id);
    std::lock_guard guard{shard.mutex};
    auto it = shard.entries.find(aggregate_key_view{type, id});
    if (it != shard.entries.end() && it->second.actor && it->second.in_router == 0) {
      it->second.last_used = clock_type::now();
      send(it->second.actor, false);
      return;
    }
    if (it == shard.entries.end()) it = shard.entries.emplace(aggregate_key{type, id}, entry{}).first;
    ++it->second.in_router;
    send(router, true);
  }

  // -- the router's side ------------------------------------------------------

  /// A counted command has been handed on (or answered).
  void settle(const std::string& type, const std::string& id);
  void add(const std::string& type, const std::string& id, caf::actor actor);
  /// Unlists the actor and runs `then()` under the lock, so that no command
  /// goes to the actor directly after what `then` sends it.
  void remove(const std::string& type, const std::string& id, const std::function<void()>& then = {});
  /// Unlists the actor only if it is still the one listed (it died on its own).
  void remove_if(const std::string& type, const std::string& id, const caf::actor_addr& actor);
  /// When a command last went to the listed actor directly; the epoch if none
  /// did or none is listed.
  clock_type::time_point last_used(const std::string& type, const std::string& id);
  bool listed(const std::string& type, const std::string& id);
  void clear();

 private:
  struct entry {
    caf::actor actor;  // null: none listed
    clock_type::time_point last_used;  // of the last direct send
    std::uint32_t in_router = 0;  // counted commands the router has not passed on yet
  };
  struct shard {
    std::mutex mutex;
    std::unordered_map<aggregate_key, entry, aggregate_key_hash, aggregate_key_equal> entries;
  };
  using entry_iterator = std::unordered_map<aggregate_key, entry, aggregate_key_hash, aggregate_key_equal>::iterator;

  shard& shard_of(const std::string& id) { return shards_[std::hash<std::string>{}(id) % shards_.size()]; }
  static void drop_if_unused(shard& s, entry_iterator it);

  std::array<shard, 16> shards_;
};

}  // namespace interlock::detail
