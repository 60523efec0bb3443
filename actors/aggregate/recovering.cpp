// Recovering: the reader loads the newest usable snapshot and the stream
// after it into a fresh instance, on its own thread; commands wait in line.
// Entered at the start and after syncing with a stale state (an append
// failed, or an event could not be applied): nothing of this actor is in the
// writer then. Leaves for running (the handed-back commands first in line),
// or for failed.
#include <interlock/actors/aggregate/aggregate_state.hpp>

#include <interlock/actors/messages.hpp>

namespace interlock::detail {
namespace {

void loaded(aggregate_self self) {
  auto& st = self->state;
  st.waiting.push_front(st.reruns);
  st.reruns.clear();
  start_running(self);
}

void not_loaded(aggregate_self self, const std::shared_ptr<recovery_job>& job, caf::error err) {
  const bool transient = !is_data_error(err);
  // The reader may still be loading: it stops at its next chunk. This actor
  // then stops, so no one uses that instance again.
  if (transient) job->abandoned.store(true);
  start_failed(self,
               explain_transport_error(std::move(err), "recovering " + stream_of(self), self->state.ctx.journal_timeout),
               transient);
}

}  // namespace

void start_recovering(aggregate_self self) {
  auto& st = self->state;
  st.instance = st.kind->make(st.id, st.ctx.snapshots);
  st.stale = false;
  st.chain = std::make_shared<batch_chain>();
  st.chain_started = false;
  auto job = std::make_shared<recovery_job>();
  job->instance = st.instance;
  job->aggregate_type = st.kind->type_name;
  job->aggregate_id = st.id;
  self->become(waiting_behavior(self, "recovering", [] {}));
  self->request(st.ctx.reader, st.ctx.journal_timeout, recover_atom::value, job)
      .then([=] { loaded(self); }, [=](caf::error& err) { not_loaded(self, job, std::move(err)); });
}

}  // namespace interlock::detail
