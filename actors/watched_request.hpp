// Requests timed by a deadline keeper instead of a CAF timer
// (actors/deadline_keeper.hpp): commands, sent straight to the aggregate's
// actor when it is live (actors/aggregate_directory.hpp), and queries. Used by
// async_dispatch, async_query and the client actor. Internal.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include <interlock/actors/aggregate_directory.hpp>
#include <interlock/actors/reply_watch.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/model/erased_messages.hpp>

namespace interlock::detail {

/// A reply_watch that also holds what to call with the reply: one allocation
/// per request, shared by the keeper and both response handlers. The handler
/// that runs destroys `done` right after calling it, on the caller's thread:
/// the keeper may hold the watch a little longer, and `done` holds the
/// caller's captures.
template <class Done>
struct watch_with_done : reply_watch {
  explicit watch_with_done(Done d) : done(std::move(d)) {}
  std::optional<Done> done;

  template <class Result>
  void finish(Result&& r) {
    (*done)(std::forward<Result>(r));
    done.reset();
  }
};

/// Sends `msg` to `target` without a CAF timeout and registers the reply with
/// `watch(w, requester, reply_id)`, `w` the reply_watch (its `what` and
/// `timeout` set). `done` gets caf::expected<Reply> once: the reply, or the
/// error (the keeper's timeout included) explained with `what` and `timeout`.
template <class Reply, class Self, class Msg, class Watch, class Done>
void request_watched(Self* self, const caf::actor& target, Msg msg, std::string what,
                     std::chrono::milliseconds timeout, Watch watch, Done done,
                     std::chrono::milliseconds grace = std::chrono::milliseconds{0}) {
  auto handle = self->request(target, caf::infinite, std::move(msg));
  auto w = std::make_shared<watch_with_done<Done>>(std::move(done));
  w->what = std::move(what);
  w->timeout = timeout;
  w->grace = grace;
  watch(std::shared_ptr<reply_watch>{w}, caf::actor_cast<caf::strong_actor_ptr>(self), handle.id());
  handle.then(
      [w](Reply& r) {
        w->answered.store(true, std::memory_order_release);
        w->finish(caf::expected<Reply>{std::move(r)});
      },
      [w](caf::error& err) {
        w->answered.store(true, std::memory_order_release);
        w->finish(caf::expected<Reply>{explain_transport_error(std::move(err), w->what, w->timeout, true)});
      });
}

/// request_watched() for a command, described as errors name it: to the
/// aggregate's live actor if the directory (which may be null) allows it,
/// else to the router.
template <class Self, class Watch, class Done>
void send_command(Self* self, aggregate_directory* directory, const caf::actor& router, erased_command cmd,
                  std::chrono::milliseconds timeout, Watch watch, Done done) {
  auto what = describe_command(cmd);
  auto send = [&](const caf::actor& target, bool counted) {
    cmd.counted = counted;
    request_watched<erased_reply>(self, target, std::move(cmd), std::move(what), timeout, std::move(watch),
                                  std::move(done));
  };
  if (!directory) return send(router, false);
  // The directory reads the type and id only before it calls `send`.
  directory->send(cmd.aggregate_type, cmd.aggregate_id, router, send);
}

/// request_watched() for a query to the projection `target` that answers it.
template <class Self, class Watch, class Done>
void send_query(Self* self, const caf::actor& target, erased_query q, Watch watch, Done done) {
  auto what = "query " + q.query_type;
  const auto timeout = q.timeout;
  request_watched<erased_answer>(self, target, std::move(q), std::move(what), timeout, std::move(watch),
                                 std::move(done), query_grace(timeout));
}

}  // namespace interlock::detail
