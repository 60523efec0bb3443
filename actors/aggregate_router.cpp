#include <interlock/actors/aggregate_router.hpp>

#include <list>
#include <unordered_map>

#include <interlock/actors/aggregate/messages.hpp>
#include <interlock/actors/aggregate_directory.hpp>
#include <interlock/actors/messages.hpp>
#include <interlock/core/log.hpp>

namespace interlock {
namespace {

using clock_type = std::chrono::steady_clock;
using detail::aggregate_key;
using key_hash = detail::aggregate_key_hash;
using key_equal = detail::aggregate_key_equal;

struct live_actor {
  caf::actor actor;
  std::list<aggregate_key>::iterator lru;  // its place in router_state::lru
  clock_type::time_point last_used;
};

// A command that arrived while its aggregate's previous actor was stopping.
struct waiting_command {
  detail::erased_command cmd;
  caf::response_promise promise;
};

// A passivated actor that has not stopped yet (it finishes the commands routed
// to it first), and the commands that wait for it to stop.
struct stopping_actor {
  clock_type::time_point since = clock_type::now();
  bool reported = false;  // a slow stop is logged once
  std::vector<waiting_command> commands;
};

struct router_state {
  std::unordered_map<std::string, std::shared_ptr<const detail::aggregate_kind>> kinds;
  aggregate_context ctx;
  std::unordered_map<aggregate_key, live_actor, key_hash, key_equal> live;
  std::list<aggregate_key> lru;                       // keys of live actors, most recently used first
  std::unordered_map<caf::actor_addr, aggregate_key> keys;
  // Passivated actors that have not stopped yet, and the commands for them
  // that must wait: a new actor may only read the stream once the old one's
  // last append has committed.
  std::unordered_map<aggregate_key, stopping_actor, key_hash, key_equal> stopping;
  // Live actors that callers may send to directly; null when middleware must
  // see every command (it runs here).
  std::shared_ptr<detail::aggregate_directory> directory;
  static inline const char* name = "interlock.aggregate_router";
};

using self_ptr = caf::stateful_actor<router_state>*;

using live_iterator = std::unordered_map<aggregate_key, live_actor, key_hash, key_equal>::iterator;

detail::aggregate_key_view key_of(const detail::erased_command& cmd) { return {cmd.aggregate_type, cmd.aggregate_id}; }

// Callers that send straight to live actors do not pass through here: the
// directory knows when they last used an actor.
bool used_since_routed(self_ptr self, live_actor& live, const aggregate_key& key) {
  auto& directory = self->state.directory;
  if (!directory) return false;
  const auto used = directory->last_used(key.type, key.id);
  if (used <= live.last_used) return false;
  live.last_used = used;
  return true;
}

// The oldest-used live actor, by what the router knows, checked against the
// directory; one used since goes to the front of the list (second chance).
// Once `budget` such moves are spent, the oldest as it stands; live.end()
// only if no actor is live.
live_iterator least_recently_used(self_ptr self, std::size_t& budget) {
  auto& st = self->state;
  while (!st.lru.empty()) {
    auto it = st.live.find(st.lru.back());
    if (budget == 0 || !used_since_routed(self, it->second, it->first)) return it;
    --budget;
    st.lru.splice(st.lru.begin(), st.lru, it->second.lru);
  }
  return st.live.end();
}

// The router sends passivate_atom after every command it routed to the
// actor, so the actor serves them all before it stops.
void passivate(self_ptr self, live_iterator it) {
  auto& st = self->state;
  auto stop = [&] { self->send(it->second.actor, passivate_atom::value); };
  if (st.directory) st.directory->remove(it->first.type, it->first.id, stop);  // no direct sends after passivate_atom
  else stop();
  st.stopping.try_emplace(it->first);
  st.lru.erase(it->second.lru);
  st.live.erase(it);
}

void enforce_cap(self_ptr self) {
  auto& st = self->state;
  auto budget = st.live.size();
  while (st.ctx.max_live > 0 && st.live.size() > st.ctx.max_live) passivate(self, least_recently_used(self, budget));
}

void sweep_idle(self_ptr self) {
  auto& st = self->state;
  const auto idle_since = clock_type::now() - st.ctx.passivate_after;
  auto budget = st.live.size();
  while (!st.lru.empty()) {
    auto it = least_recently_used(self, budget);
    if (it->second.last_used > idle_since) break;
    passivate(self, it);
  }
}

// How often idle actors are looked for: an idle actor lives between
// passivate_after and about 1.5 x passivate_after (a little longer if an actor
// used more recently but seen later by the router stands before it in the list). Actors stopping for the cap are
// checked at least every second.
std::chrono::milliseconds sweep_interval(const aggregate_context& ctx) {
  if (ctx.passivate_after.count() == 0) return std::chrono::milliseconds{1'000};
  return std::clamp(ctx.passivate_after / 2, std::chrono::milliseconds{5}, std::chrono::milliseconds{1'000});
}

// An actor that is slow to stop is named in the log, once: it is still busy
// with a command (a handler that blocks, or a journal that does not answer),
// and the commands for its aggregate wait. (They are not lost: each still
// gets its reply, or its timeout from its caller's deadline.)
void report_slow_stops(self_ptr self) {
  auto& st = self->state;
  const auto now = clock_type::now();
  for (auto& [key, stopping] : st.stopping) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - stopping.since);
    if (stopping.reported || waited <= st.ctx.journal_timeout) continue;
    stopping.reported = true;
    log(log_level::warning, "aggregate " + key.name() + " was passivated " + std::to_string(waited.count()) +
                                " ms ago and has not stopped; " + std::to_string(stopping.commands.size()) +
                                " commands wait for it");
  }
}

caf::expected<caf::actor> spawn_for(self_ptr self, const detail::erased_command& cmd) {
  auto& st = self->state;
  auto kind = st.kinds.find(cmd.aggregate_type);
  if (kind == st.kinds.end())
    return make_error(errc::unknown_command, "no aggregate type " + cmd.aggregate_type + " is registered");
  auto ctx = st.ctx;
  ctx.router = self->address();
  auto actor = spawn_aggregate_actor(self, kind->second, cmd.aggregate_id, std::move(ctx));
  self->monitor(actor);
  aggregate_key key{cmd.aggregate_type, cmd.aggregate_id};
  st.keys.emplace(actor.address(), key);
  st.lru.push_front(key);
  st.live.emplace(std::move(key), live_actor{actor, st.lru.begin(), clock_type::now()});
  return actor;
}

// Only after the command that started the actor is in its mailbox: a direct
// send from the same caller must not overtake it. The cap is enforced after
// that, so that an actor is passivated only once it is listed.
void publish(self_ptr self, const std::string& type, const std::string& id, const caf::actor& actor) {
  if (self->state.directory) self->state.directory->add(type, id, actor);
  enforce_cap(self);
}

// -- the middleware pipeline ---------------------------------------------------

command_envelope envelope_of(const detail::erased_command& cmd) {
  return {cmd.command_type, cmd.aggregate_type, cmd.aggregate_id, cmd.command_id, cmd.correlation_id, cmd.causation_id};
}

void run_after(self_ptr self, const command_envelope& env, const command_result& result, clock_type::time_point start) {
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - start);
  auto& pipeline = self->state.ctx.middleware;
  for (auto it = pipeline.rbegin(); it != pipeline.rend(); ++it) {
    try {
      (*it)->after(env, result, took);
    } catch (...) {  // an observer's failure must not change the command's outcome
      log(log_level::error, "command middleware after() threw for command " + env.command_id);
    }
  }
}

caf::result<detail::erased_reply> route(self_ptr self, detail::erased_command& cmd);

// before() in order, then the command, then after() in reverse: the reply is
// requested (not delegated) so that after() sees it.
caf::result<detail::erased_reply> route_through_middleware(self_ptr self, detail::erased_command& cmd) {
  const auto start = clock_type::now();
  auto env = envelope_of(cmd);
  std::optional<command_result> answer;
  for (auto& m : self->state.ctx.middleware) {
    try {
      answer = m->before(env);
    } catch (const std::exception& ex) {
      answer = command_result{make_error(errc::rejected, std::string{"command middleware threw: "} + ex.what())};
    } catch (...) {
      answer = command_result{make_error(errc::rejected, "command middleware threw a non-standard exception")};
    }
    if (answer) break;
  }
  if (answer) {  // short-circuit: the command does not run
    run_after(self, env, *answer, start);
    if (answer->error) return answer->error;
    return detail::erased_reply{cmd.aggregate_id, answer->position, answer->version, answer->events, nullptr};
  }
  cmd.command_id = env.command_id;
  cmd.correlation_id = env.correlation_id;
  cmd.causation_id = env.causation_id;
  auto rp = self->make_response_promise<detail::erased_reply>();
  // No timer: every command is answered exactly once, stored or not
  // (actors/aggregate/queued_command.hpp); the caller's deadline is the
  // deadline keeper's.
  self->request(caf::actor_cast<caf::actor>(self), caf::infinite, std::move(cmd))
      .then(
          [=](detail::erased_reply& r) mutable {
            run_after(self, env, command_result{{}, r.position, r.version, r.events}, start);
            rp.deliver(std::move(r));
          },
          [=](caf::error& err) mutable {
            run_after(self, env, command_result{err}, start);
            rp.deliver(std::move(err));
          });
  return rp;
}

caf::result<detail::erased_reply> route(self_ptr self, detail::erased_command& cmd) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  if (auto waiting = st.stopping.find(key_of(cmd)); waiting != st.stopping.end()) {
    waiting->second.commands.push_back({std::move(cmd), rp});
    return rp;
  }
  if (auto live = st.live.find(key_of(cmd)); live != st.live.end()) {
    st.lru.splice(st.lru.begin(), st.lru, live->second.lru);
    live->second.last_used = clock_type::now();
    rp.delegate(live->second.actor, std::move(cmd));
    return rp;
  }
  auto target = spawn_for(self, cmd);
  if (!target) return std::move(target.error());
  aggregate_key key{cmd.aggregate_type, cmd.aggregate_id};
  rp.delegate(*target, std::move(cmd));
  publish(self, key.type, key.id, *target);
  return rp;
}

caf::result<detail::erased_reply> take(self_ptr self, detail::erased_command& cmd) {
  // Again here: middleware may have set the ids.
  if (auto err = detail::check_ids(cmd)) return err;
  if (!self->state.ctx.middleware.empty() && !cmd.through_middleware) {
    cmd.through_middleware = true;
    return route_through_middleware(self, cmd);
  }
  return route(self, cmd);
}

// A live actor whose recovery failed asks to go: passivated like an idle one,
// so the commands that come meanwhile wait here for a fresh actor.
void retire(self_ptr self) {
  auto& st = self->state;
  const auto sender = self->current_sender();
  if (!sender) return;
  auto key = st.keys.find(sender->address());
  if (key == st.keys.end()) return;
  if (auto live = st.live.find(key->second); live != st.live.end() && live->second.actor.address() == key->first)
    passivate(self, live);
}

// A stopped actor: forget it; if it was passivated, its waiting commands go
// to a fresh actor, which recovers from the journal.
void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.keys.find(dm.source);
  if (it == st.keys.end()) return;
  auto key = std::move(it->second);
  st.keys.erase(it);
  if (auto waiting = st.stopping.find(key); waiting != st.stopping.end()) {
    auto commands = std::move(waiting->second.commands);
    st.stopping.erase(waiting);
    if (commands.empty()) return;
    // Commands for a stopping actor wait here, so none has started another.
    auto target = spawn_for(self, commands.front().cmd);
    for (auto& w : commands) {
      if (target) w.promise.delegate(*target, std::move(w.cmd));
      else w.promise.deliver(target.error());
    }
    if (target) publish(self, key.type, key.id, *target);
    return;
  }
  if (auto live = st.live.find(key); live != st.live.end() && live->second.actor.address() == dm.source) {
    if (st.directory) st.directory->remove_if(key.type, key.id, dm.source);
    st.lru.erase(live->second.lru);
    st.live.erase(live);
  }
}

caf::behavior aggregate_router(self_ptr self, std::vector<std::shared_ptr<const detail::aggregate_kind>> kinds,
                               aggregate_context ctx, std::shared_ptr<detail::aggregate_directory> directory) {
  for (auto& k : kinds) self->state.kinds.emplace(k->type_name, k);
  self->state.ctx = std::move(ctx);
  self->state.directory = std::move(directory);
  self->set_down_handler([=](caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (self->state.directory) self->state.directory->clear();
    for (auto& [addr, key] : self->state.keys) self->send_exit(addr, em.reason);
    self->quit(em.reason);
  });
  if (self->state.ctx.passivate_after.count() > 0 || self->state.ctx.max_live > 0)
    self->delayed_send(self, sweep_interval(self->state.ctx), sweep_atom::value);
  return {
      [=](detail::erased_command& cmd) -> caf::result<detail::erased_reply> {
        if (!cmd.counted || !self->state.directory) return take(self, cmd);
        aggregate_key key{cmd.aggregate_type, cmd.aggregate_id};
        auto result = take(self, cmd);
        self->state.directory->settle(key.type, key.id);  // handed on: direct sends may follow it
        return result;
      },
      [=](live_atom) -> std::size_t { return self->state.live.size() + self->state.stopping.size(); },
      [=](retire_atom) { retire(self); },
      [=](sweep_atom) {
        if (self->state.ctx.passivate_after.count() > 0) sweep_idle(self);
        report_slow_stops(self);
        self->delayed_send(self, sweep_interval(self->state.ctx), sweep_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_aggregate_router(caf::actor_system& sys,
                                  std::vector<std::shared_ptr<const detail::aggregate_kind>> kinds,
                                  aggregate_context ctx, std::shared_ptr<detail::aggregate_directory> directory) {
  return sys.spawn(aggregate_router, std::move(kinds), std::move(ctx), std::move(directory));
}

}  // namespace interlock
