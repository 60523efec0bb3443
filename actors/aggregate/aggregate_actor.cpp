#include <interlock/actors/aggregate/aggregate_actor.hpp>

#include <interlock/actors/aggregate/aggregate_state.hpp>

namespace interlock {
namespace {

using detail::aggregate_self;

// Told to exit (the application stops): the commands in line, and those
// handed back, are refused; the actor stops at once. Batches in flight still
// answer their commands: stored, or errc::unavailable if one comes back to a
// stopped actor (queued_command.hpp).
void on_exit(aggregate_self self, caf::exit_msg& msg) {
  detail::refuse_all(self, detail::stopping_error(self));
  self->quit(msg.reason ? msg.reason : caf::error{caf::exit_reason::user_shutdown});
}

void aggregate_actor(aggregate_self self, std::shared_ptr<const detail::aggregate_kind> kind, std::string id,
                     aggregate_context ctx) {
  auto& st = self->state;
  st.kind = std::move(kind);
  st.id = std::move(id);
  st.ctx = std::move(ctx);
  self->set_exit_handler([=](caf::exit_msg& msg) { on_exit(self, msg); });
  detail::start_recovering(self);
}

}  // namespace

caf::actor spawn_aggregate_actor(caf::local_actor* parent, std::shared_ptr<const detail::aggregate_kind> kind,
                                 std::string id, aggregate_context ctx) {
  return parent->spawn(aggregate_actor, std::move(kind), std::move(id), std::move(ctx));
}

}  // namespace interlock
