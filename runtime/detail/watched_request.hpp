// A command request timed by a deadline keeper instead of a CAF timer
// (actors/deadline_keeper.hpp), sent straight to the aggregate's actor when it
// is live (actors/aggregate_directory.hpp). Used by async_dispatch and the
// client actor. Internal.
#pragma once

#include <memory>
#include <utility>

#include <caf/all.hpp>

#include <interlock/actors/aggregate_directory.hpp>
#include <interlock/runtime/detail/erased_messages.hpp>
#include <interlock/runtime/detail/reply_watch.hpp>
#include <interlock/runtime/errors.hpp>

namespace interlock::detail {

/// Sends `msg` to `target` without a CAF timeout and registers the reply with
/// `watch(requester, reply_id)`, which returns its reply_watch. `done` gets
/// caf::expected<Reply> once: the reply, or the error (the keeper's timeout
/// included) explained with the watch's description and timeout.
template <class Reply, class Self, class Msg, class Watch, class Done>
void request_watched(Self* self, const caf::actor& target, Msg msg, Watch watch, Done done) {
  auto handle = self->request(target, caf::infinite, std::move(msg));
  std::shared_ptr<reply_watch> w = watch(caf::actor_cast<caf::strong_actor_ptr>(self), handle.id());
  // One `done` shared by both handlers: copying it into each costs an
  // allocation per command when it holds a std::function.
  auto d = std::make_shared<Done>(std::move(done));
  handle.then(
      [d, w](Reply& r) {
        w->answered.store(true, std::memory_order_release);
        (*d)(caf::expected<Reply>{std::move(r)});
      },
      [d, w](caf::error& err) {
        w->answered.store(true, std::memory_order_release);
        (*d)(caf::expected<Reply>{explain_transport_error(std::move(err), w->what, w->timeout, true)});
      });
}

/// request_watched() for a command: to the aggregate's live actor if the
/// directory (which may be null) allows it, else to the router.
template <class Self, class Watch, class Done>
void send_command(Self* self, aggregate_directory* directory, const caf::actor& router, erased_command cmd,
                  Watch watch, Done done) {
  auto send = [&](const caf::actor& target, bool counted) {
    cmd.counted = counted;
    request_watched<erased_reply>(self, target, std::move(cmd), std::move(watch), std::move(done));
  };
  if (!directory) return send(router, false);
  // The directory reads the type and id only before it calls `send`.
  directory->send(cmd.aggregate_type, cmd.aggregate_id, router, send);
}

}  // namespace interlock::detail
