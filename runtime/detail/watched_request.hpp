// A command request timed by a deadline keeper instead of a CAF timer
// (actors/deadline_keeper.hpp). Used by async_dispatch and the client actor.
// Internal.
#pragma once

#include <memory>
#include <utility>

#include <caf/all.hpp>

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
  handle.then(
      [done, w](Reply& r) mutable {
        w->answered.store(true, std::memory_order_release);
        done(caf::expected<Reply>{std::move(r)});
      },
      [done, w](caf::error& err) mutable {
        w->answered.store(true, std::memory_order_release);
        done(caf::expected<Reply>{explain_transport_error(std::move(err), w->what, w->timeout, true)});
      });
}

}  // namespace interlock::detail
