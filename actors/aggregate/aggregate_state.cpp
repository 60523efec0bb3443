#include <interlock/actors/aggregate/aggregate_state.hpp>

#include <interlock/actors/aggregate/messages.hpp>
#include <interlock/actors/journal_inbox.hpp>
#include <interlock/actors/messages.hpp>

namespace interlock::detail {

std::string stream_of(aggregate_self self) { return self->state.kind->type_name + "/" + self->state.id; }

caf::error stopping_error(aggregate_self self) {
  return make_error(errc::unavailable, stream_of(self) + ": the aggregate is stopping (application stopped?)");
}

caf::response_promise enqueue(aggregate_self self, erased_command& cmd) {
  auto rp = self->make_response_promise();
  self->state.waiting.push_back(
      {std::make_shared<const erased_command>(std::move(cmd)), rp, self->state.ctx.conflict_retries});
  return rp;
}

void enqueue_stop(aggregate_self self) { self->state.waiting.push_back(queued_command{}); }

bool send_batch(aggregate_self self, command_batch_ptr b) {
  auto& st = self->state;
  st.unsynced = true;
  append_job_ptr job = std::move(b);
  const auto left = st.ctx.inbox->leave(job);
  if (left == journal_inbox::left::queued_tell_writer) self->send(st.ctx.writer, drain_atom::value);
  return left != journal_inbox::left::closed;
}

namespace {

void forget_sync(aggregate_state& st) {
  st.sync = nullptr;
  st.unsynced = false;
}

// Sends a sync batch if batches may still be in flight; false if none is (or
// the writer has stopped): the actor is synced now.
bool send_sync(aggregate_self self) {
  auto& st = self->state;
  if (!st.unsynced) return false;
  auto b = std::make_shared<command_batch>(caf::actor_cast<caf::actor>(self), st.chain, command_batch::sync);
  st.sync = b.get();
  if (send_batch(self, std::move(b))) return true;
  forget_sync(st);  // dropped: nothing more can come back
  return false;
}

}  // namespace

void sync_then(aggregate_self self, const char* phase, std::function<void()> then) {
  if (!send_sync(self)) return then();
  self->become(waiting_behavior(self, phase, std::move(then)));
}

void resume(aggregate_self self) {
  if (self->state.stale) start_recovering(self);
  else start_running(self);
}

void refuse_all(aggregate_self self, const caf::error& why) {
  auto& st = self->state;
  st.waiting.drain([&](queued_command& q) {
    if (!q.is_stop()) q.answer(why);
  });
  for (auto& q : st.reruns) q.answer(why);
  st.reruns.clear();
}

namespace {

// The append of a command failed with `err`: it reruns after a conflict
// (retries left), or gets the error.
void fail_or_rerun(aggregate_self self, queued_command& q, const caf::error& err) {
  auto& st = self->state;
  const bool idempotent = q.cmd->idempotent;
  if (is(err, errc::conflict) && (idempotent || q.retries_left > 0)) {
    // An idempotent command conflicts when its id was committed meanwhile
    // (a concurrent retry): the rerun finds the recorded outcome.
    if (!idempotent) --q.retries_left;
    st.reruns.push_back(std::move(q));
  } else {
    q.answer(explain_transport_error(caf::error{err}, "appending to " + stream_of(self), st.ctx.journal_timeout));
  }
}

}  // namespace

void take_back(aggregate_self self, command_batch& b, std::size_t first, const caf::error& err) {
  auto& st = self->state;
  st.stale = true;
  for (auto i = first; i < b.entries.size(); ++i) {
    auto& q = b.entries[i].q;
    if (i == first && err) fail_or_rerun(self, q, err);
    else st.reruns.push_back(std::move(q));
  }
}

caf::behavior waiting_behavior(aggregate_self self, const char* phase, std::function<void()> on_sync) {
  auto synced = [=] {
    forget_sync(self->state);
    on_sync();
  };
  return {
      [=](erased_command& cmd) -> caf::result<erased_reply> { return enqueue(self, cmd); },
      [=](passivate_atom) { enqueue_stop(self); },
      [=](handed_back_atom, command_batch_ptr& b, std::size_t first, caf::error& err) {
        if (b.get() == self->state.sync) return synced();
        if (!b->is_sync()) take_back(self, *b, first, err);
      },
      [=](sync_lost_atom) {
        if (self->state.sync) synced();
      },
      [=](phase_atom) { return std::string{phase}; },
  };
}

}  // namespace interlock::detail
