// Passivating: the stop marker reached the front of the line (the router
// sends passivate_atom after the last command it routed here), so every
// command received before it is served. The actor stops once the writer
// holds nothing more of it. If the writer hands commands back meanwhile (an
// append failed), or a command came after all, they are served first:
// reload if stale, run them, and meet the stop marker again.
#include <interlock/actors/aggregate/aggregate_state.hpp>

namespace interlock::detail {
namespace {

void synced(aggregate_self self) {
  auto& st = self->state;
  if (!st.stale && st.waiting.empty()) return self->quit();
  enqueue_stop(self);
  resume(self);
}

}  // namespace

void start_passivating(aggregate_self self) {
  sync_then(self, "passivating", [=] { synced(self); });
}

}  // namespace interlock::detail
