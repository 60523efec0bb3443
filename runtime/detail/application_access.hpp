// How the actor API (actor_api.hpp) and the runtime's tests reach the parts an
// application's public calls are made of, which are not part of its API.
// Internal.
#pragma once

#include <memory>
#include <string>

#include <interlock/runtime/application.hpp>

namespace interlock::detail {

struct application_access {
  template <class C>
  static erased_command make_command(const application& app, std::string aggregate_id, C cmd, dispatch_options opts) {
    return app.make_command(std::move(aggregate_id), std::move(cmd), std::move(opts));
  }
  template <class Q>
  static erased_query make_query(const application& app, Q q, query_options opts) {
    return app.make_query(std::move(q), opts);
  }
  /// The router that takes every command.
  static caf::actor router(const application& app) { return app.router(); }
  /// The live aggregate actors a command may go to directly, bypassing the
  /// router; null when every command must pass the router (middleware).
  static aggregate_directory* directory(const application& app) { return app.directory(); }
  /// Has the application's deadline keeper answer request `id` of
  /// `requester` with errc::timeout unless `w` is marked answered in time.
  static void watch_reply(const application& app, std::shared_ptr<reply_watch> w, caf::strong_actor_ptr requester,
                          caf::message_id id) {
    app.watch_reply(std::move(w), std::move(requester), id);
  }
  /// The projection answering `query_type`, or errc::unknown_query.
  static caf::expected<caf::actor> projection_for(const application& app, const std::string& query_type) {
    return app.projection_for(query_type);
  }
};

}  // namespace interlock::detail
