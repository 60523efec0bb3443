// Pausing, resuming and resetting a projection (application::pause, resume,
// reset). A paused projection applies nothing: live events are dropped (they
// are in the journal) and no catch-up starts; queries are answered from what
// it has. Resuming catches up from its position. Resetting moves a paused
// projection's position without applying anything.
#include <interlock/actors/projection_state.hpp>

namespace interlock::detail {

caf::result<void> pause(projection_self self) {
  auto& st = self->state;
  st.paused = true;
  if (!st.failure) st.progress->state = projection_progress::phase::paused;
  return caf::unit;
}

caf::result<void> resume(projection_self self) {
  auto& st = self->state;
  if (!st.paused) return caf::unit;
  st.paused = false;
  if (st.failure) return caf::unit;  // a failed projection stays failed: rebuild() it
  st.progress->state = projection_progress::phase::catching_up;
  st.pending.clear();
  st.sent_position = st.position;
  catch_up(self);
  return caf::unit;
}

caf::result<void> reset(projection_self self, std::uint64_t position) {
  auto& st = self->state;
  const auto& name = st.kind->type_name;
  if (!st.paused)
    return make_error(errc::invalid_argument, "projection " + name + " is not paused: pause() it before reset()");
  if (!settled(self))
    return make_error(errc::unavailable, "projection " + name + ": a catch-up that timed out still holds its read "
                                         "model; try again");
  if (st.shadow)
    return make_error(errc::unavailable, "projection " + name + " is being rebuilt: reset() it once rebuild() returns");
  const auto head = st.progress->head.load();
  if (position > head)
    return make_error(errc::invalid_argument, "projection " + name + ": position " + std::to_string(position) +
                                                  " is past the journal's last position " + std::to_string(head));
  st.failure = caf::error{};
  st.progress->set_failure({});
  if (st.kind->durable) return move_durable(self, position);
  st.instance = st.kind->make();
  st.position = position;
  drop_checkpoint(self);  // the snapshot is of another read model now
  st.progress->restart(position);
  st.progress->state = projection_progress::phase::paused;
  return caf::unit;
}

}  // namespace interlock::detail
