// A durable read model's side of the projection actor: its tables live in the
// read store, so every step that touches them (creating them, applying
// events, answering queries, emptying them for a rebuild) is a message to the
// read store actor, which runs it on its thread. The projection keeps the
// order: live events go in chunks, one chunk in flight at a time, each
// committed with the checkpoint it reaches; a catch-up waits for the chunk in
// flight, and live events wait for a catch-up (its await holds them).
#include <interlock/actors/projection_state.hpp>

namespace interlock::detail {
namespace {

void send_pending(projection_self self);

void applied(projection_self self, const std::vector<stored_event>& chunk, std::uint64_t position) {
  auto& st = self->state;
  st.applying = false;
  for (auto& e : chunk) st.progress->applied_event(e.position, e.recorded_at_us);
  if (chunk.empty() || position > chunk.back().position) st.progress->passed_over(position, st.last_passed_over_us);
  st.position = std::max(st.position, position);
  st.progress->checkpoint = st.position;  // committed with the tables
  answer_parked(self);
  if (st.paused) {  // what is queued is read from the journal after resume()
    st.pending.clear();
    st.sent_position = st.position;
    st.catch_up_after_apply = false;
    return;
  }
  if (std::exchange(st.catch_up_after_apply, false)) {
    st.pending.clear();  // the catch-up reads them from the journal
    st.sent_position = st.position;
    return catch_up(self);
  }
  send_pending(self);
}

// Sends what is pending (at most a catch-up chunk's worth) as one
// transaction that moves the tables from their position to `through`: past
// the events passed over after the chunk's last, up to the next pending one.
// With only events passed over, the chunk is empty and moves the checkpoint.
void send_pending(projection_self self) {
  auto& st = self->state;
  if (st.applying || st.failure || (st.pending.empty() && st.sent_position <= st.position)) return;
  const auto take = std::min(st.pending.size(), st.ctx.read_batch);
  auto chunk = std::make_shared<std::vector<stored_event>>(std::make_move_iterator(st.pending.begin()),
                                                           std::make_move_iterator(st.pending.begin() + take));
  st.pending.erase(st.pending.begin(), st.pending.begin() + take);
  const auto through = st.pending.empty() ? st.sent_position : st.pending.front().position - 1;
  st.applying = true;
  self->request(st.store, st.ctx.journal_timeout, durable_apply_atom::value, st.instance, st.kind->type_name, *chunk,
                st.position, through)
      .then([=, generation = st.generation](std::uint64_t position) {
              if (generation == self->state.generation) applied(self, *chunk, position);
            },
            [=, generation = st.generation](caf::error& err) {
              if (generation != self->state.generation) return;  // a rebuild emptied the tables since
              if (is_data_error(err) && !chunk->empty()) {  // an event of it: the catch-up finds which, for its retries
                auto& st = self->state;
                st.failed_chunk = {chunk->front().position, chunk->back().position};  // that was one attempt
                st.applying = false;
                st.pending.clear();
                st.sent_position = st.position;
                return catch_up(self);
              }
              // Not knowing whether it committed, the projection stops: a
              // restart reads the tables' checkpoint and goes on from there.
              self->state.applying = false;
              fail(self, std::move(err));
              answer_parked(self);
            });
}

}  // namespace

void open_durable_then_catch_up(projection_self self) {
  auto& st = self->state;
  self->request(st.store, st.ctx.journal_timeout, durable_open_atom::value, st.instance, st.kind->type_name)
      .await(
          [=](std::uint64_t position) {
            auto& st = self->state;
            st.position = st.sent_position = position;
            st.progress->restart(position);
            st.progress->checkpoint = position;
            catch_up(self);
          },
          [=](caf::error& err) {
            fail(self, make_error(code_of(err).value_or(errc::storage),
                                  "projection " + self->state.kind->type_name +
                                      " cannot open its tables in the read store: " + message_of(err)));
            answer_parked(self);
          });
}

// Only the events of its subscription go to the read store; the others are
// passed over: the next chunk's transaction moves the checkpoint past them.
void queue_durable(projection_self self, const std::vector<stored_event>& events) {
  auto& st = self->state;
  for (auto& e : events) {
    if (e.position <= st.sent_position) continue;
    if (e.position != st.sent_position + 1) {  // a gap: the journal has what is missing
      if (!st.applying) {
        st.pending.clear();  // the catch-up reads them too
        st.sent_position = st.position;
        return catch_up(self);
      }
      st.catch_up_after_apply = true;
      return;
    }
    if (st.kind->subscribes_to(e.aggregate_type, e.event_type)) st.pending.push_back(e);
    else st.last_passed_over_us = e.recorded_at_us;
    st.sent_position = e.position;
  }
  send_pending(self);
}

void answer_durable(projection_self self, const erased_query& q, caf::typed_response_promise<erased_answer> rp) {
  auto& st = self->state;
  self->request(st.store, q.timeout, durable_query_atom::value, st.instance, st.kind->type_name, q)
      .then([rp](erased_answer& a) mutable { rp.deliver(std::move(a)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

caf::result<void> rebuild_durable(projection_self self) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  // Awaited: live events wait until the tables are empty and the catch-up starts.
  self->request(st.store, st.ctx.journal_timeout, durable_reset_atom::value, st.instance, st.kind->type_name)
      .await(
          [=]() mutable {
            auto& st = self->state;
            // A chunk still in flight was applied before the tables were
            // emptied (the read store runs them in order): its answer is stale.
            ++st.generation;
            st.abandoned.reset();  // the store ran what it did of that job before the reset
            st.applying = st.catch_up_after_apply = false;
            st.position = st.sent_position = 0;
            st.pending.clear();
            st.failure = caf::error{};
            st.progress->restart();
            st.progress->checkpoint = 0;
            catch_up(self);
            rp.deliver(caf::unit);
          },
          [=](caf::error& err) mutable {
            // Emptied or not (it may still commit after a timeout): either
            // way the projection does not know its tables; it stops until restarted.
            fail(self, make_error(code_of(err).value_or(errc::unavailable),
                                  "projection " + self->state.kind->type_name +
                                      ": rebuild did not finish (" + message_of(err) + "); restart to go on"));
            answer_parked(self);
            rp.deliver(std::move(err));
          });
  return rp;
}

caf::result<void> move_durable(projection_self self, std::uint64_t position) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  self->request(st.store, st.ctx.journal_timeout, durable_move_atom::value, st.kind->type_name, position)
      .await(
          [=]() mutable {
            auto& st = self->state;
            ++st.generation;  // a chunk still in flight was stored before the move: its answer is stale
            st.applying = st.catch_up_after_apply = false;
            st.position = st.sent_position = position;
            st.pending.clear();
            st.progress->restart(position);
            st.progress->state = projection_progress::phase::paused;
            st.progress->checkpoint = position;
            rp.deliver(caf::unit);
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

}  // namespace interlock::detail
