#include <interlock/actors/aggregate_actor.hpp>

#include <algorithm>
#include <vector>

#include <interlock/actors/command_queue.hpp>
#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

using detail::command_queue;
using detail::queued_command;

// The most commands one batch runs before its append goes out: bounds the
// work a conflict may have to redo and the size of one group append.
constexpr std::size_t max_batch_commands = 64;
// The most batches sent and not yet answered. The next batch runs on the
// events of those in flight, so a command need not wait out the commit of the
// one before it (it joins the next group commit instead of the one after).
constexpr std::size_t max_batches_in_flight = 4;

struct command_batch;

struct aggregate_state {
  std::shared_ptr<const detail::aggregate_kind> kind;
  std::string id;
  aggregate_context ctx;
  std::shared_ptr<detail::aggregate_instance> instance;  // shared with the reader while it recovers
  caf::error failure;        // recovery failed: commands get this error
  bool failure_is_transient = false;  // the journal did not answer: retry with a fresh actor
  command_queue waiting;      // not run yet, in order
  std::vector<std::shared_ptr<command_batch>> in_flight;  // sent, oldest first; answered in that order
  std::vector<queued_command> reruns;  // of failed batches, in order: back in line once none is in flight
  bool chain_broken = false;  // a batch in flight failed: the ones after it ran on its events
  bool busy = false;          // recovering or looking up a command id: nothing runs
  bool stale = false;         // the instance holds state the journal may not: rebuild before going on
  bool passivating = false;   // stop once the waiting commands are served
  caf::error exit_reason;     // set when told to exit: stop once the batches in flight are answered
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
// then serves what waits.
void reload_then_continue(self_ptr self) {
  auto& st = self->state;
  st.instance = st.kind->make(st.id, st.ctx.snapshots);
  st.stale = false;
  st.busy = true;
  recover(self, [=] {
    self->state.busy = false;
    run_waiting(self);
  });
}

// One command of a batch and what became of it.
struct batch_entry {
  queued_command q;
  caf::error error;                      // rejected (or could not run)
  std::shared_ptr<const void> result;
  std::size_t events = 0;                // appended by request `request`
  std::size_t request = 0;               // its request's index, if events > 0
  std::uint64_t version_seen = 0;        // the version it ran on (for commands without events)
};

// A batch: the waiting commands run back to back, each on the state the
// commands (and batches in flight) before it left, their events appended
// together (one request per command, consecutive expected versions, one
// transaction). Replies go out once the append is answered, and once the
// batches before it are: a command's outcome depends on the events it ran
// on, which count only once they are stored.
struct command_batch {
  std::vector<batch_entry> entries;
  std::vector<append_request> requests;  // moved to the writer when sent
  std::size_t sent = 0;                  // how many requests went to the writer (0: nothing to store)
};

append_request request_for(self_ptr self, const detail::erased_command& cmd, detail::command_outcome& outcome) {
  auto& st = self->state;
  return append_request{st.kind->type_name,          st.id,
                        st.instance->version(),       std::move(outcome.events),
                        cmd.command_id,               cmd.correlation_id,
                        cmd.causation_id,             std::move(outcome.snapshot),
                        st.instance->snapshots_kept(), cmd.idempotent,
                        std::move(outcome.result_json)};
}

void add_outcome(self_ptr self, command_batch& batch, queued_command q, detail::command_outcome outcome) {
  batch_entry e;
  e.version_seen = self->state.instance->version();
  e.error = std::move(outcome.error);
  e.result = std::move(outcome.result);
  if (!e.error && !outcome.events.empty()) {
    e.events = outcome.events.size();
    e.request = batch.requests.size();
    batch.requests.push_back(request_for(self, *q.cmd, outcome));
    batch.requests.back().after_previous = e.request > 0;  // it ran on the events of the one before
  }
  e.q = std::move(q);
  batch.entries.push_back(std::move(e));
}

// The caller has given up on a command still in line: it is not run (it would
// commit unseen).
bool expired(queued_command& q) {
  if (std::chrono::steady_clock::now() <= q.cmd->deadline) return false;
  q.rp.deliver(make_error(errc::timeout, detail::describe_command(*q.cmd) +
                                             " was not run: its deadline passed while it waited in line"));
  return true;
}

// Its reply: its error, or its result with where its events landed (`r`).
void answer(self_ptr self, batch_entry& e, const append_result* r) {
  if (e.error) return void(e.q.rp.deliver(std::move(e.error)));
  auto& st = self->state;
  if (r) return void(e.q.rp.deliver(detail::erased_reply{st.id, r->last_position, r->last_version, e.events, e.result}));
  e.q.rp.deliver(detail::erased_reply{st.id, 0, e.version_seen, 0, e.result});
}

// The append of a command failed with `err`: it reruns after a conflict
// (retries left), or gets the error.
void fail_or_rerun(self_ptr self, batch_entry& e, const caf::error& err) {
  auto& st = self->state;
  const bool idempotent = e.q.cmd->idempotent;
  if (is(err, errc::conflict) && (idempotent || e.q.retries_left > 0)) {
    // An idempotent command conflicts when its id was committed meanwhile
    // (a concurrent retry): the rerun finds the recorded outcome.
    if (!idempotent) --e.q.retries_left;
    st.reruns.push_back(std::move(e.q));
  } else {
    e.q.rp.deliver(detail::explain_transport_error(caf::error{err}, "appending to " + stream_of(self),
                                                   st.ctx.journal_timeout));
  }
}

// Answers what stands of `batch` (the oldest in flight); the commands whose
// outcome rested on a failed append go to the reruns, in order.
void settle(self_ptr self, command_batch& batch, const std::vector<append_outcome>& outcomes) {
  auto& st = self->state;
  bool broken = st.chain_broken;  // from here on, outcomes rest on a failed append
  for (auto& e : batch.entries) {
    if (e.events > 0 && !outcomes[e.request].error) {
      answer(self, e, &outcomes[e.request].result);
    } else if (e.events > 0 && !broken) {
      // The first failure: the instance holds events the journal lacks.
      st.chain_broken = st.stale = broken = true;
      fail_or_rerun(self, e, outcomes[e.request].error);
    } else if (!broken) {
      answer(self, e, nullptr);
    } else {
      st.reruns.push_back(std::move(e.q));
    }
  }
}

// Settles the batches in flight that can be settled: `batch` with its
// outcomes, then those behind it that store nothing. Once none is in flight,
// the reruns go back in line (refused if the actor is stopping).
void settled(self_ptr self, const std::shared_ptr<command_batch>& batch, const std::vector<append_outcome>& outcomes) {
  auto& st = self->state;
  settle(self, *batch, outcomes);
  std::erase(st.in_flight, batch);
  while (!st.in_flight.empty() && st.in_flight.front()->sent == 0) {
    auto next = st.in_flight.front();
    settle(self, *next, {});
    st.in_flight.erase(st.in_flight.begin());
  }
  if (!st.in_flight.empty()) return;
  st.chain_broken = false;
  if (st.exit_reason) {
    for (auto& q : st.reruns) q.rp.deliver(stopping_error(self));
  } else {
    st.waiting.push_front(st.reruns);
  }
  st.reruns.clear();
}

std::vector<append_outcome> failed_outcomes(std::size_t n, const caf::error& err) {
  std::vector<append_outcome> out(n);
  for (auto& o : out) o.error = err;
  return out;
}

// No timeout: the writer answers every append it takes (or CAF bounces it if
// the writer is gone), and abandoning an append could not undo it anyway. The
// callers' own command timeouts bound their wait.
void append_batch(self_ptr self, std::shared_ptr<command_batch> batch) {
  auto& st = self->state;
  if (batch->entries.empty()) return;
  if (batch->requests.empty() && st.in_flight.empty()) {  // nothing to store, nothing to wait for
    for (auto& e : batch->entries) answer(self, e, nullptr);
    return;
  }
  batch->sent = batch->requests.size();
  st.in_flight.push_back(batch);
  if (batch->sent == 0) return;  // answered once the batches before it are
  // It ran on the events of the batches before it: the journal appends it
  // only if it appended theirs.
  if (st.in_flight.size() > 1) batch->requests.front().after_previous = true;
  self->request(st.ctx.writer, caf::infinite, append_atom::value, std::move(batch->requests))
      .then(
          [=](std::vector<append_outcome>& outcomes) {
            if (outcomes.size() != batch->sent)
              outcomes = failed_outcomes(batch->sent, make_error(errc::storage, "the journal writer answered " +
                                                                                    std::to_string(outcomes.size()) +
                                                                                    " of " + std::to_string(batch->sent) +
                                                                                    " appends"));
            settled(self, batch, outcomes);
            run_waiting(self);
          },
          [=](caf::error& err) {
            settled(self, batch, failed_outcomes(batch->sent, err));
            run_waiting(self);
          });
}

// Applies the events of the batch's last command: the commands after it, in
// this batch or the next, run on them. If this code cannot apply them, that
// command is rejected before anything of it is stored, and the instance
// (which may hold part of them) is rebuilt once nothing is in flight.
bool apply_last(self_ptr self, command_batch& batch) {
  auto& st = self->state;
  auto err = st.instance->apply_unstored();
  if (!err) return true;
  auto last = std::move(batch.entries.back());
  batch.entries.pop_back();
  batch.requests.pop_back();
  last.q.rp.deliver(std::move(err));
  st.stale = true;
  return false;
}

// Runs `q` into `batch`; false if its events could not be applied.
bool run_into(self_ptr self, command_batch& batch, queued_command q) {
  auto outcome = self->state.instance->execute(*q.cmd);
  add_outcome(self, batch, std::move(q), std::move(outcome));
  return batch.entries.back().events == 0 || apply_last(self, batch);
}

// Runs the waiting commands up to an idempotent one (it runs alone) as one
// batch. A command runs on the state after the commands before it: their
// events are applied as soon as they run (apply_last()), before they are
// stored, and undone by a rebuild if an append fails.
void run_batch(self_ptr self) {
  auto& st = self->state;
  auto batch = std::make_shared<command_batch>();
  while (!st.waiting.empty() && !st.waiting.front().cmd->idempotent && batch->entries.size() < max_batch_commands) {
    auto q = st.waiting.pop_front();
    if (expired(q)) continue;
    if (!run_into(self, *batch, std::move(q))) break;
  }
  append_batch(self, batch);
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
            auto batch = std::make_shared<command_batch>();
            run_into(self, *batch, std::move(q));
            append_batch(self, batch);
            run_waiting(self);
          },
          [=](caf::error& err) mutable {
            self->state.busy = false;
            q.rp.deliver(detail::explain_transport_error(std::move(err), "looking up command " + q.cmd->command_id,
                                                         self->state.ctx.journal_timeout));
            run_waiting(self);
          });
}

// Whether the next waiting command may run now. It runs on the state the
// batches in flight leave, up to max_batches_in_flight of them; a state to
// rebuild, or a command that looks the journal up first, waits until none is.
bool may_run_next(aggregate_state& st) {
  if (st.in_flight.empty()) return true;
  return !st.stale && !st.waiting.front().cmd->idempotent &&
         st.in_flight.size() < max_batches_in_flight;
}

// Serves the waiting commands as far as may_run_next() allows.
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
    if (!may_run_next(st)) return;
    if (st.stale) return reload_then_continue(self);
    if (st.waiting.front().cmd->idempotent)
      run_idempotent(self);
    else
      run_batch(self);
  }
  if (st.busy || !st.in_flight.empty()) return;
  if (st.exit_reason) self->quit(st.exit_reason);
  else if (st.passivating) self->quit();
}

// Told to exit (the application stops): commands not started are refused;
// the batches in flight are still answered (their appends may commit) before
// the actor stops, so no caller is left waiting for a reply that cannot come.
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
