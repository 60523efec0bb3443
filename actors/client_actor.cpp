#include <interlock/actors/client_actor.hpp>

#include <deque>
#include <variant>

#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

using job = std::variant<detail::command_job, detail::query_job>;

struct client_state {
  caf::actor router;
  std::size_t window = 1024;
  std::size_t in_flight = 0;
  std::deque<job> queue;
  static inline const char* name = "interlock.client";
};

using self_ptr = caf::stateful_actor<client_state>*;

void pump(self_ptr self);

template <class Reply, class Done>
void complete(self_ptr self, Done& done, caf::expected<Reply> reply) {
  done(std::move(reply));
  --self->state.in_flight;
  pump(self);
}

void launch(self_ptr self, detail::command_job& j) {
  auto what = "command " + j.cmd.command_type + " to " + j.cmd.aggregate_type + "/" + j.cmd.aggregate_id;
  self->request(self->state.router, j.timeout, std::move(j.cmd))
      .then([=, done = j.done](detail::erased_reply& r) mutable { complete(self, done, caf::expected<detail::erased_reply>{std::move(r)}); },
            [=, done = j.done, timeout = j.timeout](caf::error& err) mutable {
              complete(self, done, caf::expected<detail::erased_reply>{detail::explain_transport_error(std::move(err), what, timeout)});
            });
}

void launch(self_ptr self, detail::query_job& j) {
  auto what = "query " + j.q.query_type;
  auto timeout = j.q.timeout;
  self->request(j.target, detail::transport_timeout(timeout), std::move(j.q))
      .then([=, done = j.done](detail::erased_answer& a) mutable { complete(self, done, caf::expected<detail::erased_answer>{std::move(a)}); },
            [=, done = j.done](caf::error& err) mutable {
              complete(self, done, caf::expected<detail::erased_answer>{detail::explain_transport_error(std::move(err), what, timeout)});
            });
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.window && !st.queue.empty()) {
    auto next = std::move(st.queue.front());
    st.queue.pop_front();
    ++st.in_flight;
    std::visit([&](auto& j) { launch(self, j); }, next);
  }
}

caf::behavior client_actor(self_ptr self, caf::actor router, std::size_t window) {
  self->state.router = std::move(router);
  self->state.window = std::max<std::size_t>(1, window);
  return {
      [=](detail::command_job& j) {
        self->state.queue.emplace_back(std::move(j));
        pump(self);
      },
      [=](detail::query_job& j) {
        self->state.queue.emplace_back(std::move(j));
        pump(self);
      },
  };
}

}  // namespace

caf::actor spawn_client_actor(caf::actor_system& sys, caf::actor router, std::size_t window) {
  return sys.spawn(client_actor, std::move(router), window);
}

}  // namespace interlock
