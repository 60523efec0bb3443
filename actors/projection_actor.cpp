#include <interlock/actors/projection_actor.hpp>

#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

struct parked_query {
  std::uint64_t ticket;
  detail::erased_query query;
  caf::typed_response_promise<detail::erased_answer> promise;
};

struct projection_state {
  std::shared_ptr<const detail::projection_kind> kind;
  aggregate_context ctx;
  std::unique_ptr<detail::projection_instance> instance;
  std::uint64_t position = 0;  // last global position applied
  caf::error failure;
  std::vector<parked_query> parked;
  std::uint64_t next_ticket = 0;
  static inline const char* name = "interlock.projection";
};

using self_ptr = caf::stateful_actor<projection_state>*;

caf::result<detail::erased_answer> answer(self_ptr self, const detail::erased_query& q) {
  auto& st = self->state;
  if (st.failure) return st.failure;
  auto out = st.instance->answer(q);
  if (out.error) return std::move(out.error);
  return detail::erased_answer{std::move(out.result), st.position};
}

void answer_parked(self_ptr self) {
  auto& st = self->state;
  std::erase_if(st.parked, [&](parked_query& p) {
    if (!st.failure && p.query.after > st.position) return false;
    auto res = st.instance->answer(p.query);
    if (st.failure) p.promise.deliver(st.failure);
    else if (res.error) p.promise.deliver(std::move(res.error));
    else p.promise.deliver(detail::erased_answer{std::move(res.result), st.position});
    return true;
  });
}

// Applies events in order, skipping what is already applied. Returns false on a
// gap (the caller reads the journal to fill it) or a failure.
bool apply_in_order(self_ptr self, const std::vector<stored_event>& events) {
  auto& st = self->state;
  for (auto& e : events) {
    if (e.position <= st.position) continue;
    if (e.position != st.position + 1) return false;
    if (auto err = st.instance->apply(e)) {
      st.failure = make_error(code_of(err).value_or(errc::corrupt_event),
                              "projection " + st.kind->type_name + " stopped: " + message_of(err));
      return false;
    }
    st.position = e.position;
  }
  return true;
}

// Reads the journal from the position on until the end. The await holds live
// events and queries in the mailbox meanwhile.
void catch_up(self_ptr self) {
  auto& st = self->state;
  if (st.failure) return answer_parked(self);
  auto batch = st.ctx.read_batch;
  self->request(st.ctx.reader, st.ctx.journal_timeout, read_all_atom::value, st.position + 1,
                static_cast<std::uint64_t>(batch))
      .await(
          [=](std::vector<stored_event>& events) {
            if (apply_in_order(self, events) && events.size() == batch) return catch_up(self);
            answer_parked(self);
          },
          [=](caf::error& err) {
            self->state.failure = detail::explain_transport_error(
                std::move(err), "catching up projection " + self->state.kind->type_name,
                self->state.ctx.journal_timeout);
            answer_parked(self);
          });
}

caf::result<detail::erased_answer> park(self_ptr self, detail::erased_query& q) {
  auto& st = self->state;
  auto ticket = st.next_ticket++;
  auto rp = self->make_response_promise<detail::erased_answer>();
  if (q.timeout.count() > 0) self->delayed_send(self, q.timeout, expire_atom::value, ticket);
  st.parked.push_back({ticket, std::move(q), rp});
  return rp;
}

void expire(self_ptr self, std::uint64_t ticket) {
  auto& st = self->state;
  std::erase_if(st.parked, [&](parked_query& p) {
    if (p.ticket != ticket) return false;
    p.promise.deliver(make_error(errc::timeout, "projection " + st.kind->type_name + " did not reach position " +
                                                    std::to_string(p.query.after) + " within " +
                                                    std::to_string(p.query.timeout.count()) + " ms (it is at " +
                                                    std::to_string(st.position) + ")"));
    return true;
  });
}

void start(self_ptr self) {
  auto& st = self->state;
  st.instance = st.kind->make();
  st.position = 0;
  st.failure = caf::error{};
  catch_up(self);
}

caf::behavior projection_actor(self_ptr self, std::shared_ptr<const detail::projection_kind> kind,
                               aggregate_context ctx) {
  self->state.kind = std::move(kind);
  self->state.ctx = std::move(ctx);
  self->request(self->state.ctx.writer, self->state.ctx.journal_timeout, subscribe_atom::value,
                caf::actor_cast<caf::actor>(self))
      .await([=](std::uint64_t) { start(self); },
             [=](caf::error& err) {
               self->state.instance = self->state.kind->make();
               self->state.failure = detail::explain_transport_error(
                   std::move(err), "subscribing projection " + self->state.kind->type_name,
                   self->state.ctx.journal_timeout);
             });
  return {
      [=](events_atom, const std::vector<stored_event>& events) {
        if (self->state.failure) return;
        if (!apply_in_order(self, events)) return catch_up(self);  // a gap: read it from the journal
        answer_parked(self);
      },
      [=](detail::erased_query& q) -> caf::result<detail::erased_answer> {
        if (!self->state.failure && q.after > self->state.position) return park(self, q);
        return answer(self, q);
      },
      [=](expire_atom, std::uint64_t ticket) { expire(self, ticket); },
      [=](rebuild_atom) { start(self); },
  };
}

}  // namespace

caf::actor spawn_projection_actor(caf::actor_system& sys, std::shared_ptr<const detail::projection_kind> kind,
                                  aggregate_context ctx) {
  return sys.spawn(projection_actor, std::move(kind), std::move(ctx));
}

}  // namespace interlock
