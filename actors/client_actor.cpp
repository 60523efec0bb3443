#include <interlock/actors/client_actor.hpp>

#include <deque>
#include <unordered_map>
#include <variant>

#include <interlock/actors/deadline_keeper.hpp>
#include <interlock/actors/messages.hpp>
#include <interlock/actors/watched_request.hpp>

namespace interlock {
namespace {

using job = std::variant<detail::command_job, detail::query_job>;
using callback = std::variant<detail::command_done, detail::query_done>;

struct client_state {
  caf::actor router;
  std::shared_ptr<detail::aggregate_directory> directory;  // live aggregates, sent to directly
  detail::deadline_keeper* deadlines = nullptr;
  std::size_t window = 1024;
  std::deque<job> queue;
  std::unordered_map<std::uint64_t, callback> in_flight;  // by ticket
  std::uint64_t next_ticket = 0;
  static inline const char* name = "interlock.client";
};

using self_ptr = caf::stateful_actor<client_state>*;

void pump(self_ptr self);

template <class Reply>
void complete(self_ptr self, std::uint64_t ticket, caf::expected<Reply> reply) {
  auto it = self->state.in_flight.find(ticket);
  if (it == self->state.in_flight.end()) return;
  auto done = std::move(it->second);
  self->state.in_flight.erase(it);
  (*std::get<std::shared_ptr<detail::reply_once<Reply>>>(done))(std::move(reply));
  pump(self);
}

void launch(self_ptr self, detail::command_job& j) {
  auto ticket = self->state.next_ticket++;
  self->state.in_flight.emplace(ticket, std::move(j.done));
  // Timed by the deadline keeper, not by a CAF timer (see deadline_keeper.hpp).
  detail::send_command(
      self, self->state.directory.get(), self->state.router, std::move(j.cmd), j.timeout,
      [&](std::shared_ptr<detail::reply_watch> w, caf::strong_actor_ptr requester, caf::message_id id) {
        self->state.deadlines->watch(std::move(w), std::move(requester), id);
      },
      [=](caf::expected<detail::erased_reply> r) { complete(self, ticket, std::move(r)); });
}

void launch(self_ptr self, detail::query_job& j) {
  auto ticket = self->state.next_ticket++;
  self->state.in_flight.emplace(ticket, std::move(j.done));
  detail::send_query(
      self, j.target, std::move(j.q),
      [&](std::shared_ptr<detail::reply_watch> w, caf::strong_actor_ptr requester, caf::message_id id) {
        self->state.deadlines->watch(std::move(w), std::move(requester), id);
      },
      [=](caf::expected<detail::erased_answer> a) { complete(self, ticket, std::move(a)); });
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.in_flight.size() < st.window && !st.queue.empty()) {
    auto next = std::move(st.queue.front());
    st.queue.pop_front();
    std::visit([&](auto& j) { launch(self, j); }, next);
  }
}

// Nobody waits forever: dropping a job's callback answers it with
// errc::unavailable (see reply_once).
void fail_everything(self_ptr self) {
  self->state.in_flight.clear();
  self->state.queue.clear();
}

caf::behavior client_actor(self_ptr self, caf::actor router, std::shared_ptr<detail::aggregate_directory> directory,
                           std::size_t window, detail::deadline_keeper* deadlines) {
  self->state.router = std::move(router);
  self->state.directory = std::move(directory);
  self->state.deadlines = deadlines;
  self->state.window = std::max<std::size_t>(1, window);
  self->set_exit_handler([=](caf::exit_msg& em) {
    fail_everything(self);
    self->quit(em.reason);
  });
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

caf::actor spawn_client_actor(caf::actor_system& sys, caf::actor router,
                              std::shared_ptr<detail::aggregate_directory> directory, std::size_t window,
                              detail::deadline_keeper* deadlines) {
  return sys.spawn(client_actor, std::move(router), std::move(directory), window, deadlines);
}

}  // namespace interlock
