// A command at its aggregate, from arrival to answer, with the promise its
// caller waits on. Internal to actors/aggregate/.
//
// It is answered exactly once: through answer() (or answer_from(), in the
// name of the actor running it, the journal writer's when a batch
// completes), or, if destroyed unanswered (dropped with a job the writer
// never took, or with a message to an actor that has stopped), with
// errc::unavailable. So no caller waits for a reply that cannot come.
// A queued_command without a command is the stop marker: the actor stops
// once the commands ahead of it are served (actors/aggregate/passivating.cpp).
#pragma once

#include <cstddef>
#include <memory>

#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>

#include <interlock/model/erased_messages.hpp>

namespace interlock::detail {

using command_ptr = std::shared_ptr<const erased_command>;

class queued_command {
 public:
  command_ptr cmd;
  std::size_t retries_left = 0;  // reruns left after a conflicting append

  queued_command() = default;  // the stop marker
  queued_command(command_ptr c, caf::response_promise p, std::size_t retries)
      : cmd(std::move(c)), retries_left(retries), rp_(std::move(p)) {}
  queued_command(queued_command&&) noexcept = default;
  queued_command& operator=(queued_command&&) noexcept = default;
  ~queued_command();

  bool is_stop() const { return cmd == nullptr; }

  /// Answers the caller with an error or a reply; later answers are ignored.
  void answer(caf::error err);
  void answer(erased_reply reply);

  /// As answer(), in the name of `sender` (the actor now running; null: in
  /// the name of the actor the promise came from).
  void answer_from(const caf::strong_actor_ptr& sender, caf::error err);
  void answer_from(const caf::strong_actor_ptr& sender, erased_reply reply);

 private:
  caf::response_promise rp_;
};

}  // namespace interlock::detail
