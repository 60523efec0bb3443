#include <interlock/actors/aggregate/queued_command.hpp>

#include <caf/actor_control_block.hpp>
#include <caf/make_message.hpp>

#include <interlock/core/errors.hpp>

namespace interlock::detail {
namespace {

caf::response_promise in_name_of(const caf::strong_actor_ptr& sender, caf::response_promise& rp) {
  caf::response_promise named{sender, rp.source(), rp.stages(), rp.id()};
  rp = {};
  return named;
}

}  // namespace

// Runs wherever the last reference goes, often not in an actor: the error is
// enqueued without an execution unit. (CAF's forwarding stages are not used
// for commands.)
queued_command::~queued_command() {
  if (!rp_.pending() || !rp_.source()) return;
  auto err = make_error(errc::unavailable, describe_command(*cmd) +
                                               " was not stored: the journal writer or the aggregate stopped first"
                                               " (application stopped?)");
  rp_.source()->enqueue(nullptr, rp_.id().response_id(), caf::make_message(std::move(err)), nullptr);
}

void queued_command::answer(caf::error err) { rp_.deliver(std::move(err)); }

void queued_command::answer(erased_reply reply) { rp_.deliver(std::move(reply)); }

void queued_command::answer_from(const caf::strong_actor_ptr& sender, caf::error err) {
  if (!sender) return answer(std::move(err));
  in_name_of(sender, rp_).deliver(std::move(err));
}

void queued_command::answer_from(const caf::strong_actor_ptr& sender, erased_reply reply) {
  if (!sender) return answer(std::move(reply));
  in_name_of(sender, rp_).deliver(std::move(reply));
}

}  // namespace interlock::detail
