// Rebuilding a read model in memory without downtime: a new instance (the
// shadow) catches up from position 0 on the journal reader while the old one
// goes on applying live events and answering queries. When the shadow has
// caught up, it goes on catching up to where the old one is (the live events
// the old one applied meanwhile), and then takes its place between two
// messages of the actor: no query ever sees a half-built read model, and no
// event is missed or applied twice (the journal is the same, the position
// carries over). The caller of rebuild() is answered once the swap is done.
// Durable read models: actors/projection_durable_rebuild.cpp.
#include <interlock/actors/projection_state.hpp>

#include <interlock/core/log.hpp>

namespace interlock::detail {

void abandon_rebuild(projection_self self, caf::error err) {
  auto& st = self->state;
  st.shadow.reset();
  st.progress->rebuilding = false;
  err = make_error(code_of(err).value_or(errc::unavailable), "projection " + st.kind->type_name +
                                                                   ": the rebuild did not finish (" + message_of(err) +
                                                                   "); the read model it was to replace stays");
  log(log_level::warning, describe(err));
  for (auto& rp : std::exchange(st.rebuild_waiters, {})) rp.deliver(err);
}

void rebuild_done(projection_self self) {
  for (auto& rp : std::exchange(self->state.rebuild_waiters, {})) rp.deliver(caf::unit);
}

namespace {

// The shadow reflects the journal as far as the old read model does, or
// further: it takes over, and live events it has seen are skipped.
void swap_in(projection_self self) {
  auto& st = self->state;
  st.abandoned.reset();
  st.instance = std::move(st.shadow->instance);
  st.position = st.sent_position = std::max(st.position, st.shadow->position);
  st.shadow.reset();
  st.failure = caf::error{};
  st.progress->set_failure({});
  st.progress->position = st.position;
  st.progress->state = st.paused ? projection_progress::phase::paused : projection_progress::phase::live;
  st.progress->rebuilding = false;
  drop_checkpoint(self);  // the stored snapshot is the old read model's
  rebuild_done(self);
  answer_parked(self);
  save_checkpoint_if_due(self);
}

void continue_shadow(projection_self self) {
  auto& st = self->state;
  auto job = std::make_shared<catchup_job>();
  job->instance = st.shadow->instance;
  job->position = st.shadow->position;
  job->next_position = job->position + 1;
  job->projection_name = st.kind->type_name;
  job->filter = st.kind->catch_up_filter();
  auto shadow = st.shadow;
  // Not awaited: the old read model keeps serving while the reader works.
  self->request(st.ctx.reader, caf::infinite, catchup_atom::value, job)
      .then(
          [=] {
            auto& st = self->state;
            if (st.shadow != shadow) return;  // given up meanwhile (stopped, reset)
            shadow->position = std::max(job->position, job->scanned_through);
            if (shadow->position < st.position) return continue_shadow(self);
            swap_in(self);
          },
          [=](caf::error& err) {
            if (self->state.shadow == shadow) abandon_rebuild(self, std::move(err));
          });
}

}  // namespace

caf::result<void> rebuild_in_shadow(projection_self self) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  st.rebuild_waiters.push_back(rp);
  if (st.shadow) return rp;  // one is under way: its end answers this call too
  st.shadow = std::make_shared<shadow_build>();
  st.shadow->instance = st.kind->make();
  st.progress->rebuilding = true;
  continue_shadow(self);
  return rp;
}

}  // namespace interlock::detail
