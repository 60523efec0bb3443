// Failed: recovery did not succeed, and every command waiting or to come gets
// the error. Bad data stays an error until it is fixed; a journal that did
// not answer (transient) gets another chance with a fresh actor: this one
// asks the router to retire it, answers what comes until passivate_atom
// (callers send straight to it until then: had it stopped at once, their
// commands would be dropped, "receiver down"), and the router starts another
// for the next command.
#include <interlock/actors/aggregate/aggregate_state.hpp>

#include <interlock/actors/aggregate/messages.hpp>
#include <interlock/actors/messages.hpp>

namespace interlock::detail {

void start_failed(aggregate_self self, caf::error why, bool transient) {
  refuse_all(self, why);
  if (transient) {
    auto router = caf::actor_cast<caf::actor>(self->state.ctx.router);
    if (!router) return self->quit();
    self->send(router, retire_atom::value);
  }
  self->become({
      [=](erased_command&) -> caf::result<erased_reply> { return why; },
      [=](passivate_atom) { self->quit(); },
      [=](handed_back_atom, command_batch_ptr&, std::size_t, caf::error&) {},  // nothing is in flight
      [=](sync_lost_atom) {},
      [=](phase_atom) { return std::string{"failed"}; },
  });
}

}  // namespace interlock::detail
