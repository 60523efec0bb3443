// Rebuilding a durable read model without downtime: the read store builds a
// shadow copy of its tables from position 0 in a store of its own (a scratch
// file beside the read store, actors/read_store_shadow.cpp), a chunk a
// transaction, while the tables in use go on applying live events and
// answering queries. Once the shadow has caught up, the read store brings it
// to the position of the tables in use (the live events they took
// meanwhile) and swaps it in: the old tables replaced by the shadow's and the
// checkpoint set to its position, in one transaction. So no query sees a
// half-built read model, no event is missed or applied twice, and a crash at
// any point leaves the old tables with their checkpoint, or the new ones
// with theirs. The caller of rebuild() is answered once swapped; two calls
// share one rebuild; status says `rebuilding` meanwhile. A shadow that fails
// (a handler throws: no retries, no parking; the disk) is dropped, and the
// old tables stay.
#include <interlock/actors/projection_state.hpp>

namespace interlock::detail {
namespace {

// The shadow's tables replaced the old ones at `position`, with the shadow's
// instance: the projection goes on from there. A live chunk still in flight
// was stored before the swap (the read store runs them in order): its answer
// is stale. The catch-up takes what the old tables had not taken yet.
void take_over(projection_self self, std::uint64_t position) {
  auto& st = self->state;
  st.instance = std::move(st.shadow->instance);
  st.shadow.reset();
  ++st.generation;
  st.abandoned.reset();  // a catch-up that timed out touches the old instance and tables only
  st.applying = st.catch_up_after_apply = false;
  st.pending.clear();
  st.position = st.sent_position = std::max(st.position, position);
  st.failure = caf::error{};
  st.progress->set_failure({});
  st.progress->position = st.position;
  st.progress->checkpoint = st.position;
  st.progress->state = st.paused ? projection_progress::phase::paused : projection_progress::phase::live;
  st.progress->rebuilding = false;
  count_parked_events(self);  // the swap forgot those the shadow applied
  rebuild_done(self);
  answer_parked(self);
  catch_up(self);
}

// Awaited: the read store is busy with the swap anyway, and the projection
// must not send it a chunk or a catch-up of the old tables meanwhile.
void swap(projection_self self) {
  auto& st = self->state;
  auto job = std::make_shared<catchup_job>();
  job->instance = st.shadow->instance;
  job->projection_name = st.kind->type_name;
  job->shadow = true;
  if (st.kind->catch_up_by_type) job->filter.event_types = st.kind->stored_event_types;
  self->request(st.store, caf::infinite, shadow_swap_atom::value, job)
      .await([=](std::uint64_t position) { take_over(self, position); },
             [=](caf::error& err) { abandon_rebuild(self, std::move(err)); });
}

// The shadow's catch-up job, to the journal's end (the read store
// interleaves its chunks with other work); not awaited. Then the swap, which
// first applies what the tables in use took since: chasing their position
// with more jobs might never end while events come faster than the shadow
// applies them between other work.
void continue_shadow(projection_self self) {
  auto& st = self->state;
  auto shadow = st.shadow;
  auto job = std::make_shared<catchup_job>();
  job->instance = shadow->instance;
  job->position = shadow->position;
  job->next_position = job->position + 1;
  job->projection_name = st.kind->type_name;
  job->shadow = true;
  if (st.kind->catch_up_by_type) job->filter.event_types = st.kind->stored_event_types;
  self->request(st.store, caf::infinite, catchup_atom::value, job)
      .then(
          [=] {
            auto& st = self->state;
            if (st.shadow != shadow) return;
            shadow->position = std::max(job->position, job->scanned_through);
            swap(self);  // at the journal's end: what came since is little, and the swap applies it
          },
          [=](caf::error& err) {
            if (self->state.shadow == shadow) abandon_rebuild(self, std::move(err));
          });
}

}  // namespace

caf::result<void> rebuild_durable_in_shadow(projection_self self) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  st.rebuild_waiters.push_back(rp);
  if (st.shadow) return rp;  // one is under way: its end answers this call too
  auto shadow = st.shadow = std::make_shared<shadow_build>();
  shadow->instance = st.kind->make();
  st.progress->rebuilding = true;
  self->request(st.store, caf::infinite, shadow_open_atom::value, shadow->instance, st.kind->type_name)
      .then(
          [=] {
            if (self->state.shadow == shadow) continue_shadow(self);
          },
          [=](caf::error& err) {
            if (self->state.shadow == shadow) abandon_rebuild(self, std::move(err));
          });
  return rp;
}

}  // namespace interlock::detail
