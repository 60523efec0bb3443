#include <interlock/actors/aggregate_actor.hpp>

#include <vector>

#include <interlock/actors/command_queue.hpp>
#include <interlock/actors/journal_inbox.hpp>
#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

using detail::command_queue;
using detail::queued_command;

// The most commands one group runs before it goes to the writer: bounds the
// work a conflict may have to redo and the size of one message.
constexpr std::size_t max_group_commands = 64;

struct aggregate_state {
  std::shared_ptr<const detail::aggregate_kind> kind;
  std::string id;
  aggregate_context ctx;
  std::shared_ptr<detail::aggregate_instance> instance;  // shared with the reader while it recovers
  caf::error failure;        // recovery failed: commands get this error
  bool failure_is_transient = false;  // the journal did not answer: retry with a fresh actor
  command_queue waiting;      // not run yet, in order
  std::vector<queued_command> reruns;  // handed back by the writer, in order: back in line once synced
  bool unsynced = false;      // groups went to the writer since the last sync: some may come back
  bool chain_restarts = true; // the next group rests on no request before it (the state was just loaded)
  bool busy = false;          // recovering, looking up a command id or syncing: nothing runs
  bool stale = false;         // the instance holds state the journal may not: rebuild before going on
  bool passivating = false;   // stop once the waiting commands are served
  caf::error exit_reason;     // set when told to exit: stop once the writer has answered what it holds
  static inline const char* name = "interlock.aggregate";
};

using self_ptr = caf::stateful_actor<aggregate_state>*;

std::string stream_of(self_ptr self) { return self->state.kind->type_name + "/" + self->state.id; }

void run_waiting(self_ptr self);

caf::error stopping_error(self_ptr self) {
  return make_error(errc::unavailable, stream_of(self) + ": the aggregate is stopping (application stopped?)");
}

// The reader loads snapshot + stream into the instance on its own thread; the
// await keeps commands queued until the state is current. `then` runs after
// the load, successful or not.
void recover(self_ptr self, std::function<void()> then = {}) {
  auto& st = self->state;
  auto job = std::make_shared<detail::recovery_job>();
  job->instance = st.instance;
  job->aggregate_type = st.kind->type_name;
  job->aggregate_id = st.id;
  self->request(st.ctx.reader, st.ctx.journal_timeout, recover_atom::value, job)
      .await(
          [=] {
            if (then) then();
          },
          [=](caf::error& err) {
            auto& st = self->state;
            st.failure_is_transient = !detail::is_data_error(err);
            // The reader may still be loading: it stops at its next chunk.
            // This actor then quits, so no one uses that instance again.
            if (st.failure_is_transient) job->abandoned.store(true);
            st.failure = detail::explain_transport_error(std::move(err), "recovering " + stream_of(self),
                                                         st.ctx.journal_timeout);
            if (then) then();  // the waiting commands then get the failure
          });
}

// Rebuilds the state (the instance holds events the journal did not take),
// then serves what waits. Only once synced: nothing of it is in the writer.
void reload_then_continue(self_ptr self) {
  auto& st = self->state;
  st.instance = st.kind->make(st.id, st.ctx.snapshots);
  st.stale = false;
  st.chain_restarts = true;
  st.busy = true;
  recover(self, [=] {
    self->state.busy = false;
    run_waiting(self);
  });
}

// Once the writer has answered every group sent before: the commands it
// handed back go back in line (refused if the actor is stopping).
void synced(self_ptr self) {
  auto& st = self->state;
  st.busy = false;
  st.unsynced = false;
  if (st.exit_reason) {
    for (auto& q : st.reruns) q.rp.deliver(stopping_error(self));
  } else {
    st.waiting.push_front(st.reruns);
  }
  st.reruns.clear();
  run_waiting(self);
}

// Asks the writer to answer once it has answered (or handed back) the groups
// sent before; what it hands back comes ahead of the answer. No timeout, as
// for the appends: the writer answers every sync, or CAF bounces it if the
// writer is gone (then nothing more can come back either).
void sync_then_continue(self_ptr self) {
  auto& st = self->state;
  st.busy = true;
  self->request(st.ctx.writer, caf::infinite, sync_atom::value)
      .then([=] { synced(self); }, [=](caf::error&) { synced(self); });
}

// The append of a command failed with `err`: it reruns after a conflict
// (retries left), or gets the error.
void fail_or_rerun(self_ptr self, queued_command& q, const caf::error& err) {
  auto& st = self->state;
  const bool idempotent = q.cmd->idempotent;
  if (is(err, errc::conflict) && (idempotent || q.retries_left > 0)) {
    // An idempotent command conflicts when its id was committed meanwhile
    // (a concurrent retry): the rerun finds the recorded outcome.
    if (!idempotent) --q.retries_left;
    st.reruns.push_back(std::move(q));
  } else {
    q.rp.deliver(detail::explain_transport_error(caf::error{err}, "appending to " + stream_of(self),
                                                 st.ctx.journal_timeout));
  }
}

// The writer hands back the commands of `g` from `first` on (the first one's
// append failed with `err`, if set): the instance holds events the journal
// lacks. They rerun, in order, once synced and rebuilt.
void handed_back(self_ptr self, detail::command_group& g, std::size_t first, const caf::error& err) {
  auto& st = self->state;
  st.stale = true;
  for (auto i = first; i < g.entries.size(); ++i) {
    auto& q = g.entries[i].q;
    if (i == first && err) fail_or_rerun(self, q, err);
    else st.reruns.push_back(std::move(q));
  }
  if (!st.busy) sync_then_continue(self);
}

// The caller has given up on a command still in line: it is not run (it would
// commit unseen).
bool expired(queued_command& q) {
  if (std::chrono::steady_clock::now() <= q.cmd->deadline) return false;
  q.rp.deliver(make_error(errc::timeout, detail::describe_command(*q.cmd) +
                                             " was not run: its deadline passed while it waited in line"));
  return true;
}

detail::group_entry entry_for(self_ptr self, queued_command q, detail::command_outcome& outcome) {
  auto& st = self->state;
  detail::group_entry e;
  e.error = std::move(outcome.error);
  e.reply = detail::erased_reply{st.id, 0, st.instance->version(), 0, std::move(outcome.result)};
  e.q = std::move(q);
  return e;
}

append_request request_for(self_ptr self, const detail::erased_command& cmd, detail::command_outcome& outcome) {
  auto& st = self->state;
  return append_request{st.kind->type_name,          st.id,
                        st.instance->version(),       std::move(outcome.events),
                        cmd.command_id,               cmd.correlation_id,
                        cmd.causation_id,             std::move(outcome.snapshot),
                        st.instance->snapshots_kept(), cmd.idempotent,
                        std::move(outcome.result_json)};
}

// Adds `q` and what it did to `g`. Its request rests on the one before it
// (in this group, or the group before if the chain goes on).
void add_outcome(self_ptr self, detail::command_group& g, queued_command q, detail::command_outcome outcome) {
  auto& st = self->state;
  auto e = entry_for(self, std::move(q), outcome);
  if (!e.error && !outcome.events.empty()) {
    e.reply.events = outcome.events.size();
    e.request = g.requests.size();
    g.requests.push_back(request_for(self, *e.q.cmd, outcome));
    g.requests.back().after_previous = e.request > 0 || !st.chain_restarts;
  }
  g.entries.push_back(std::move(e));
}

// Applies the events of the group's last command: the commands after it run
// on them. If this code cannot apply them, that command is rejected before
// anything of it is stored, and the instance (which may hold part of them) is
// rebuilt once synced.
bool apply_last(self_ptr self, detail::command_group& g) {
  auto& st = self->state;
  auto err = st.instance->apply_unstored();
  if (!err) return true;
  auto last = std::move(g.entries.back());
  g.entries.pop_back();
  g.requests.pop_back();
  last.q.rp.deliver(std::move(err));
  st.stale = true;
  return false;
}

// Runs `q` into `g`; false if its events could not be applied.
bool run_into(self_ptr self, detail::command_group& g, queued_command q) {
  auto outcome = self->state.instance->execute(*q.cmd);
  add_outcome(self, g, std::move(q), std::move(outcome));
  return g.entries.back().request == detail::no_request || apply_last(self, g);
}

// Hands `g` to the writer, which answers its commands once their events (and
// those they ran on) are stored. With nothing to store and nothing in the
// writer to wait for, the commands are answered here and now.
void send_group(self_ptr self, detail::command_group_ptr g) {
  auto& st = self->state;
  if (g->entries.empty()) return;
  if (g->requests.empty() && !st.unsynced) {
    for (auto& e : g->entries) detail::deliver(e.q.rp, e);
    return;
  }
  if (!g->requests.empty()) st.chain_restarts = false;
  st.unsynced = true;
  g->aggregate = caf::actor_cast<caf::actor>(self);
  // A writer that has stopped refuses `g`: dropped here, it answers its commands.
  if (st.ctx.inbox->leave(g) == detail::journal_inbox::left::queued_tell_writer)
    self->send(st.ctx.writer, drain_atom::value);
}

// Runs the waiting commands up to an idempotent one (it runs alone) as one
// group. A command runs on the state after the commands before it: their
// events are applied as soon as they run (apply_last()), before they are
// stored, and undone by a rebuild if an append fails.
void run_group(self_ptr self) {
  auto& st = self->state;
  auto g = std::make_shared<detail::command_group>();
  while (!st.waiting.empty() && !st.waiting.front().cmd->idempotent && g->entries.size() < max_group_commands) {
    auto q = st.waiting.pop_front();
    if (expired(q)) continue;
    if (!run_into(self, *g, std::move(q))) break;
  }
  send_group(self, std::move(g));
}

// The first outcome of a command retried with the same id.
void reply_recorded(self_ptr self, const detail::erased_command& cmd, const command_record& rec,
                    caf::response_promise& rp) {
  auto& st = self->state;
  if (rec.aggregate_type != st.kind->type_name || rec.aggregate_id != st.id)
    return void(rp.deliver(make_error(errc::invalid_argument,
                                      "command id " + cmd.command_id + " was already used for a command to " +
                                          rec.aggregate_type + "/" + rec.aggregate_id + ", not " + stream_of(self))));
  auto result = st.instance->decode_result(cmd.command_type, rec.result_json);
  if (!result) return void(rp.deliver(std::move(result.error())));
  rp.deliver(detail::erased_reply{st.id, rec.last_position, rec.last_version,
                                  static_cast<std::size_t>(rec.last_position - rec.first_position + 1), *result});
}

// An idempotency key: look it up first (the journal may hold it from before a
// restart); run the command, alone, only if it was never committed.
void run_idempotent(self_ptr self) {
  auto& st = self->state;
  auto q = st.waiting.pop_front();
  if (expired(q)) return;
  st.busy = true;
  self->request(st.ctx.reader, st.ctx.journal_timeout, find_command_atom::value, q.cmd->command_id)
      .await(
          [=](command_record& rec) mutable {
            self->state.busy = false;
            if (!rec.aggregate_type.empty()) {
              reply_recorded(self, *q.cmd, rec, q.rp);
              return run_waiting(self);
            }
            auto g = std::make_shared<detail::command_group>();
            run_into(self, *g, std::move(q));
            send_group(self, std::move(g));
            run_waiting(self);
          },
          [=](caf::error& err) mutable {
            self->state.busy = false;
            q.rp.deliver(detail::explain_transport_error(std::move(err), "looking up command " + q.cmd->command_id,
                                                         self->state.ctx.journal_timeout));
            run_waiting(self);
          });
}

// Whether the writer must answer what it holds before the next waiting
// command runs: a state to rebuild, or a command that looks the journal up
// first, waits for it.
bool must_sync_first(aggregate_state& st) {
  return st.unsynced && (st.stale || st.waiting.front().cmd->idempotent);
}

// Serves the waiting commands; once none waits, a stopping actor stops (after
// the writer has answered what it holds: it may hand some back).
void run_waiting(self_ptr self) {
  auto& st = self->state;
  while (!st.busy && !st.waiting.empty()) {
    if (st.failure) {
      // Bad data stays an error until it is fixed; a journal that did not
      // answer gets another chance with a fresh actor on the next command.
      st.waiting.drain([&](queued_command& q) { q.rp.deliver(st.failure); });
      if (st.failure_is_transient) self->quit();
      return;
    }
    if (must_sync_first(st)) return sync_then_continue(self);
    if (st.stale) return reload_then_continue(self);
    if (st.waiting.front().cmd->idempotent)
      run_idempotent(self);
    else
      run_group(self);
  }
  if (st.busy || !(st.exit_reason || st.passivating)) return;
  if (st.unsynced) return sync_then_continue(self);
  if (st.exit_reason) self->quit(st.exit_reason);
  else self->quit();
}

// Told to exit (the application stops): commands not started are refused;
// the groups in the writer are still answered (their appends may commit), and
// what it hands back refused, before the actor stops: no caller is left
// waiting for a reply that cannot come.
void on_exit(self_ptr self, caf::exit_msg& msg) {
  auto& st = self->state;
  st.exit_reason = msg.reason ? msg.reason : caf::error{caf::exit_reason::user_shutdown};
  st.waiting.drain([&](queued_command& q) { q.rp.deliver(stopping_error(self)); });
  run_waiting(self);
}

caf::behavior aggregate_actor(self_ptr self, std::shared_ptr<const detail::aggregate_kind> kind, std::string id,
                              aggregate_context ctx) {
  auto& st = self->state;
  st.kind = std::move(kind);
  st.id = std::move(id);
  st.ctx = std::move(ctx);
  st.instance = st.kind->make(st.id, st.ctx.snapshots);
  self->set_exit_handler([=](caf::exit_msg& msg) { on_exit(self, msg); });
  recover(self);
  return {
      [=](detail::erased_command& cmd) -> caf::result<detail::erased_reply> {
        auto& st = self->state;
        if (st.exit_reason) return stopping_error(self);
        auto rp = self->make_response_promise();
        st.waiting.push_back({std::make_shared<const detail::erased_command>(std::move(cmd)), rp,
                              st.ctx.conflict_retries});
        run_waiting(self);
        return rp;
      },
      [=](rerun_atom, detail::command_group_ptr& g, std::size_t first, caf::error& err) {
        handed_back(self, *g, first, err);
      },
      [=](passivate_atom) {
        self->state.passivating = true;
        run_waiting(self);
      },
  };
}

}  // namespace

caf::actor spawn_aggregate_actor(caf::local_actor* parent, std::shared_ptr<const detail::aggregate_kind> kind,
                                 std::string id, aggregate_context ctx) {
  return parent->spawn(aggregate_actor, std::move(kind), std::move(id), std::move(ctx));
}

}  // namespace interlock
