#include <interlock/actors/command_group.hpp>

#include <caf/actor_control_block.hpp>
#include <caf/make_message.hpp>

#include <interlock/runtime/errors.hpp>

namespace interlock::detail {

// Runs wherever the last reference goes, often not in an actor: the error is
// enqueued without an execution unit, as the deadline keeper does. (CAF's
// forwarding stages are not used for commands.)
command_group::~command_group() {
  for (auto& e : entries) {
    auto& rp = e.q.rp;
    if (!rp.pending() || !rp.source()) continue;
    auto err = make_error(errc::unavailable, describe_command(*e.q.cmd) +
                                                 " was not stored: the journal writer or the aggregate stopped first"
                                                 " (application stopped?)");
    rp.source()->enqueue(nullptr, rp.id().response_id(), caf::make_message(std::move(err)), nullptr);
  }
}

}  // namespace interlock::detail
