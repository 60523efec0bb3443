// Running: the state is current as far as this actor knows. The commands
// waiting run back to back as one batch, each on the state the one before
// left (its events are applied as soon as it runs, before they are stored),
// and the batch goes to the writer (actors/aggregate/command_batch.hpp)
// without waiting for its append; the next batch rests on it. A command with
// an idempotency key runs alone, after its key is looked up.
// Leaves for syncing (a batch was handed back, an event could not be applied,
// or an idempotent command must see everything sent before its lookup), or
// for passivating (the stop marker reached the front of the line).
#include <interlock/actors/aggregate/aggregate_state.hpp>

#include <chrono>

#include <interlock/actors/aggregate/messages.hpp>
#include <interlock/actors/messages.hpp>

namespace interlock::detail {
namespace {

// The most commands one batch runs before it goes to the writer: bounds the
// work a conflict may have to redo and the size of one message.
constexpr std::size_t max_batch_commands = 64;

void serve(aggregate_self self);

// The caller has given up on a command still in line: it is not run (it would
// commit unseen).
bool expired(queued_command& q) {
  if (std::chrono::steady_clock::now() <= q.cmd->deadline) return false;
  q.answer(make_error(errc::timeout,
                      describe_command(*q.cmd) + " was not run: its deadline passed while it waited in line"));
  return true;
}

append_request request_for(aggregate_self self, const erased_command& cmd, command_outcome& outcome,
                           const caf::error& refusal) {
  auto& st = self->state;
  append_request req{st.kind->type_name,          st.id,
                     st.instance->version(),       std::move(outcome.events),
                     cmd.command_id,               cmd.correlation_id,
                     cmd.causation_id,             std::move(outcome.snapshot),
                     st.instance->snapshots_kept(), cmd.idempotent,
                     std::move(outcome.result_json)};
  if (cmd.idempotent) {
    req.command_type = cmd.command_type;
    req.refusal = refusal;
  }
  return req;
}

// Whether the outcome goes to the journal: events, or the outcome of a
// command with an idempotency key even if it stored nothing or its handler
// refused it, so that a retry (a saga's, after a restart) gets that outcome
// instead of running again on a state that may have changed. Other failures
// (a deadline, a broken codec) are not decisions and are not recorded.
bool stores_outcome(const erased_command& cmd, const caf::error& error, const command_outcome& outcome) {
  if (!error) return !outcome.events.empty() || cmd.idempotent;
  return cmd.idempotent && is(error, errc::rejected);
}

// Adds `q` and what it did to `b`. Its request rests on the one before it (in
// this batch, or the batch before if the chain goes on).
void add_outcome(aggregate_self self, command_batch& b, queued_command q, command_outcome outcome) {
  auto& st = self->state;
  batch_entry e;
  e.error = std::move(outcome.error);
  e.reply = erased_reply{st.id, 0, st.instance->version(), 0, std::move(outcome.result)};
  if (stores_outcome(*q.cmd, e.error, outcome)) {
    e.reply.events = outcome.events.size();
    e.request = b.requests.size();
    b.requests.push_back(request_for(self, *q.cmd, outcome, e.error));
    b.requests.back().after_previous = e.request > 0 || st.chain_started;
  }
  e.q = std::move(q);
  b.entries.push_back(std::move(e));
}

// Applies the events of the batch's last command: the commands after it run
// on them. If this code cannot apply them, that command is rejected before
// anything of it is stored, and the instance (which may hold part of them) is
// stale.
bool apply_last(aggregate_self self, command_batch& b) {
  auto err = self->state.instance->apply_unstored();
  if (!err) return true;
  auto last = std::move(b.entries.back());
  b.entries.pop_back();
  b.requests.pop_back();
  last.q.answer(std::move(err));
  self->state.stale = true;
  return false;
}

// Runs `q` into `b`; false if its events could not be applied.
bool run_into(aggregate_self self, command_batch& b, queued_command q) {
  auto outcome = self->state.instance->execute(*q.cmd);
  add_outcome(self, b, std::move(q), std::move(outcome));
  return b.entries.back().request == no_request || apply_last(self, b);
}

// Hands `b` to the writer, which completes it once its events (and those they
// ran on) are stored. With nothing to store and nothing in the writer to wait
// for, the commands are answered here and now.
void send(aggregate_self self, command_batch_ptr b) {
  auto& st = self->state;
  if (b->entries.empty()) return;
  if (b->requests.empty() && !st.unsynced) return b->answer_all();
  if (!b->requests.empty()) st.chain_started = true;
  send_batch(self, std::move(b));  // a stopped writer drops it: its commands answer (queued_command.hpp)
}

command_batch_ptr new_batch(aggregate_self self) {
  return std::make_shared<command_batch>(caf::actor_cast<caf::actor>(self), self->state.chain);
}

// Runs the waiting commands up to an idempotent one or the stop marker as one
// batch.
void run_batch(aggregate_self self) {
  auto& st = self->state;
  auto b = new_batch(self);
  while (!st.waiting.empty() && !st.waiting.front().is_stop() && !st.waiting.front().cmd->idempotent &&
         b->entries.size() < max_batch_commands) {
    auto q = st.waiting.pop_front();
    if (expired(q)) continue;
    if (!run_into(self, *b, std::move(q))) break;
  }
  send(self, std::move(b));
}

// The first outcome of a command retried with the same id.
void reply_recorded(aggregate_self self, queued_command& q, const command_record& rec) {
  auto& st = self->state;
  if (rec.aggregate_type != st.kind->type_name || rec.aggregate_id != st.id)
    return q.answer(make_error(errc::invalid_argument, "command id " + q.cmd->command_id +
                                                           " was already used for a command to " +
                                                           rec.aggregate_type + "/" + rec.aggregate_id + ", not " +
                                                           stream_of(self)));
  if (!rec.command_type.empty() && rec.command_type != q.cmd->command_type)
    return q.answer(make_error(errc::invalid_argument, "command id " + q.cmd->command_id +
                                                           " was already used for a command " + rec.command_type +
                                                           " to " + stream_of(self) + ", not " + q.cmd->command_type));
  if (rec.refusal) return q.answer(rec.refusal);
  auto result = st.instance->decode_result(q.cmd->command_type, rec.result_json);
  if (!result) return q.answer(std::move(result.error()));
  const auto events = rec.first_position == 0 ? 0 : rec.last_position - rec.first_position + 1;
  q.answer(erased_reply{st.id, rec.last_position, rec.last_version, static_cast<std::size_t>(events), *result});
}

// An idempotency key: look it up first (the journal may hold it from before a
// restart); run the command, alone, only if it was never committed. CAF's
// await keeps the messages that come meanwhile in the mailbox.
void run_idempotent(aggregate_self self) {
  auto& st = self->state;
  auto q = std::make_shared<queued_command>(st.waiting.pop_front());
  if (expired(*q)) return serve(self);
  self->request(st.ctx.reader, st.ctx.journal_timeout, find_command_atom::value, q->cmd->command_id)
      .await(
          [=](command_record& rec) {
            if (!rec.aggregate_type.empty()) {
              reply_recorded(self, *q, rec);
            } else {
              auto b = new_batch(self);
              run_into(self, *b, std::move(*q));
              send(self, std::move(b));
            }
            serve(self);
          },
          [=](caf::error& err) {
            q->answer(explain_transport_error(std::move(err), "looking up command " + q->cmd->command_id,
                                              self->state.ctx.journal_timeout));
            serve(self);
          });
}

// Serves the waiting commands until the line is empty or another phase takes over.
void serve(aggregate_self self) {
  auto& st = self->state;
  while (!st.waiting.empty()) {
    if (st.stale) return start_syncing(self);
    auto& front = st.waiting.front();
    if (front.is_stop()) {
      st.waiting.pop_front();
      return start_passivating(self);
    }
    if (front.cmd->idempotent) {
      if (st.unsynced) return start_syncing(self);
      return run_idempotent(self);
    }
    run_batch(self);
  }
  if (st.stale) start_syncing(self);
}

}  // namespace

void start_running(aggregate_self self) {
  self->become({
      [=](erased_command& cmd) -> caf::result<erased_reply> {
        auto rp = enqueue(self, cmd);
        serve(self);
        return rp;
      },
      [=](passivate_atom) {
        enqueue_stop(self);
        serve(self);
      },
      [=](handed_back_atom, command_batch_ptr& b, std::size_t first, caf::error& err) {
        if (b->is_sync()) return;  // not waited for: nothing more to learn from it
        take_back(self, *b, first, err);
        start_syncing(self);
      },
      [=](sync_lost_atom) {},
      [=](phase_atom) { return std::string{"running"}; },
  });
  serve(self);
}

}  // namespace interlock::detail
