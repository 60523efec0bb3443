// Dispatching commands and asking queries from inside an actor, without
// blocking its scheduler thread: the reply arrives as a callback on the actor.
//
//   interlock::async_dispatch(self, app, account_id, DepositMoney{100},
//                             [=](caf::expected<interlock::receipt<void>> r) { ... });
//   interlock::async_query(self, app, GetBalance{account_id},
//                          [=](caf::expected<std::int64_t> balance) { ... });
//
// `self` is any event-based actor (caf::event_based_actor*, a stateful_actor
// pointer, ...). The application must outlive the request.
#pragma once

#include <caf/all.hpp>

#include <interlock/actors/watched_request.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/model/erased_messages.hpp>
#include <interlock/runtime/application.hpp>
#include <interlock/runtime/detail/application_access.hpp>

namespace interlock {

template <class C, class Self, class F>
void async_dispatch(Self* self, const application& app, std::string aggregate_id, C cmd, F on_reply,
              dispatch_options opts = {}) {
  using R = result_of_t<C>;
  auto timeout = opts.timeout;
  using access = detail::application_access;
  auto erased = access::make_command(app, std::move(aggregate_id), std::move(cmd), std::move(opts));
  if (erased.aggregate_type.empty()) {
    on_reply(caf::expected<receipt<R>>{
        make_error(errc::unknown_command, "no registered aggregate handles command " + erased.command_type)});
    return;
  }
  if (auto err = detail::check_ids(erased)) {
    on_reply(caf::expected<receipt<R>>{std::move(err)});
    return;
  }
  // No CAF timeout: the application's deadline keeper answers in the reply's
  // place if it is late (a CAF timer per request costs more than the command).
  detail::send_command(
      self, access::directory(app), access::router(app), std::move(erased), timeout,
      [&](std::shared_ptr<detail::reply_watch> w, caf::strong_actor_ptr requester, caf::message_id id) {
        access::watch_reply(app, std::move(w), std::move(requester), id);
      },
      [on_reply](caf::expected<detail::erased_reply> r) mutable { on_reply(detail::to_receipt<R>(std::move(r))); });
}

template <class Q, class Self, class F>
void async_query(Self* self, const application& app, Q q, F on_reply, query_options opts = {}) {
  using R = result_of_t<Q>;
  using access = detail::application_access;
  auto erased = access::make_query(app, std::move(q), opts);
  auto target = access::projection_for(app, erased.query_type);
  if (!target) {
    on_reply(caf::expected<R>{std::move(target.error())});
    return;
  }
  // Timed by the application's deadline keeper, as commands are.
  detail::send_query(
      self, *target, std::move(erased),
      [&](std::shared_ptr<detail::reply_watch> w, caf::strong_actor_ptr requester, caf::message_id id) {
        access::watch_reply(app, std::move(w), std::move(requester), id);
      },
      [on_reply](caf::expected<detail::erased_answer> a) mutable { on_reply(detail::to_result<R>(std::move(a))); });
}

}  // namespace interlock
