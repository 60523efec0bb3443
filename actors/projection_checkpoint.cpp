// A projection's checkpoint: for a read model in memory, a snapshot of it as
// JSON with the position it reflects, stored in the read store every
// `snapshot_every` events and on a clean stop; loaded at start so that only
// the journal's tail is applied. A snapshot is a cache: one that cannot be
// used (another state version, a position past the journal's end, JSON that
// does not decode, a store that does not answer) is logged and the read
// model is rebuilt from position 0, never started from a wrong state.
#include <interlock/actors/projection_state.hpp>

#include <interlock/core/log.hpp>

namespace interlock::detail {
namespace {

void warn(projection_self self, const std::string& what) {
  log(log_level::warning, "projection " + self->state.kind->type_name + ": " + what);
}

void start_from(projection_self self, std::unique_ptr<projection_instance> instance, std::uint64_t position) {
  auto& st = self->state;
  st.instance = std::move(instance);
  st.position = position;
  st.saved_position = position;
  st.progress->restart(position);
  st.progress->checkpoint = position;
}

// Why `cp` cannot be used, or "" if it can.
std::string unusable(projection_self self, const projection_checkpoint& cp, std::uint64_t journal_head) {
  auto& kind = *self->state.kind;
  if (cp.state.empty()) return "its checkpoint holds no snapshot";
  if (cp.state_version != kind.state_version)
    return "its snapshot has state version " + std::to_string(cp.state_version) + ", the code's is " +
           std::to_string(kind.state_version);
  if (cp.position > journal_head)
    return "its snapshot is at position " + std::to_string(cp.position) + ", past the journal's last position " +
           std::to_string(journal_head) + " (a read store of another journal?)";
  return {};
}

void restore(projection_self self, const projection_checkpoint& cp, std::uint64_t journal_head) {
  if (auto why = unusable(self, cp, journal_head); !why.empty())
    return warn(self, why + ": rebuilding it from position 0");
  auto restored = self->state.kind->restore(cp.state);
  if (!restored) return warn(self, message_of(restored.error()) + ": rebuilding it from position 0");
  start_from(self, std::move(*restored), cp.position);
}

}  // namespace

void load_checkpoint_then(projection_self self, std::uint64_t journal_head) {
  auto& st = self->state;
  start_from(self, st.kind->make(), 0);
  if (st.kind->durable) return open_durable_then_catch_up(self);
  if (st.kind->snapshot_every == 0 || !st.store) return catch_up(self);
  // Awaited: live events wait in the mailbox until the read model is chosen.
  self->request(st.store, st.ctx.journal_timeout, checkpoint_load_atom::value, st.kind->type_name)
      .await(
          [=](const checkpoint_ptr& cp) {
            if (cp) restore(self, *cp, journal_head);
            catch_up(self);
          },
          [=](caf::error& err) {
            warn(self, "cannot load its checkpoint (" + describe(err) + "): rebuilding it from position 0");
            catch_up(self);
          });
}

namespace {

void save(projection_self self, bool final_save) {
  auto& st = self->state;
  auto state = st.instance->snapshot();
  if (!state) {
    st.saved_position = st.position;  // try again after another snapshot_every events
    return warn(self, "cannot snapshot its read model: " + message_of(state.error()));
  }
  auto cp = std::make_shared<projection_checkpoint>();
  cp->position = st.position;
  cp->state_version = st.kind->state_version;
  cp->state = std::move(*state);
  if (final_save) return self->send(st.store, checkpoint_save_atom::value, st.kind->type_name, checkpoint_ptr{cp});
  st.saving = true;
  self->request(st.store, st.ctx.journal_timeout, checkpoint_save_atom::value, st.kind->type_name, checkpoint_ptr{cp})
      .then(
          [=, generation = st.generation]() {
            self->state.saving = false;
            if (generation != self->state.generation) return;
            self->state.saved_position = cp->position;
            self->state.progress->checkpoint = cp->position;
          },
          [=](caf::error& err) {
            self->state.saving = false;
            self->state.saved_position = cp->position;  // not at every batch: after another snapshot_every events
            warn(self, "cannot store its snapshot at position " + std::to_string(cp->position) + ": " + describe(err));
          });
}

// Whether the read model is the actor's to encode (no catch-up holds it).
bool may_save(projection_self self) {
  auto& st = self->state;
  return st.kind->snapshot_every > 0 && st.store && !st.failure && !st.catching_up && settled(self);
}

}  // namespace

void save_checkpoint_if_due(projection_self self) {
  auto& st = self->state;
  if (!st.saving && may_save(self) && st.position - st.saved_position >= st.kind->snapshot_every) save(self, false);
}

void save_final_checkpoint(projection_self self) {
  auto& st = self->state;
  // Also while a save is in flight: it holds an older position, this one replaces it.
  if (may_save(self) && st.position > st.saved_position) save(self, true);
}

void drop_checkpoint(projection_self self) {
  auto& st = self->state;
  ++st.generation;
  st.saved_position = 0;
  st.progress->checkpoint = 0;
  if (st.kind->snapshot_every == 0 || !st.store) return;
  self->request(st.store, st.ctx.journal_timeout, checkpoint_drop_atom::value, st.kind->type_name)
      .then([] {},
            [=](caf::error& err) { warn(self, "cannot forget its checkpoint before a rebuild: " + describe(err)); });
}

}  // namespace interlock::detail
