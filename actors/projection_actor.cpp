#include <interlock/actors/projection_actor.hpp>

#include <interlock/actors/projection_state.hpp>

#include <atomic>

namespace interlock {
namespace {

using detail::parked_query;
using self_ptr = detail::projection_self;
using detail::answer_parked;
using detail::catch_up;
using detail::fail;
using detail::settled;

caf::result<detail::erased_answer> answer(self_ptr self, const detail::erased_query& q) {
  auto& st = self->state;
  if (st.failure) return st.failure;
  if (st.kind->durable) {
    auto rp = self->make_response_promise<detail::erased_answer>();
    detail::answer_durable(self, q, rp);
    return rp;
  }
  auto out = st.instance->answer(q);
  if (out.error) return std::move(out.error);
  return detail::erased_answer{std::move(out.result), st.position};
}

void count_parked(self_ptr self) { self->state.progress->waiting_queries = self->state.parked.size(); }

enum class applied { all, gap, failed };

// Applies events in order, skipping what is already applied. Stops at a gap
// (live events: read the journal to fill it) or a failure.
applied apply_in_order(self_ptr self, const std::vector<stored_event>& events) {
  auto& st = self->state;
  for (auto& e : events) {
    if (e.position <= st.position) continue;
    if (e.position != st.position + 1) return applied::gap;
    if (e.position == st.skip_position) {  // parked: passed over
      st.position = e.position;
      continue;
    }
    // Other event types the instance passes over itself, at a hash lookup.
    const bool subscribed = st.kind->aggregate_types.empty() || st.kind->subscribes_to(e.aggregate_type, e.event_type);
    if (auto err = subscribed ? st.instance->apply(view_of(e), st.scratch) : caf::error{}) {
      detail::poisoned(self, e, make_error(code_of(err).value_or(errc::corrupt_event),
                                           "projection " + st.kind->type_name + " stopped: " + message_of(err)));
      return applied::failed;
    }
    st.position = e.position;
    st.progress->applied_event(e.position, e.recorded_at_us);
  }
  return applied::all;
}

caf::result<detail::erased_answer> park(self_ptr self, detail::erased_query& q) {
  auto& st = self->state;
  auto ticket = st.next_ticket++;
  auto rp = self->make_response_promise<detail::erased_answer>();
  self->delayed_send(self, q.timeout, expire_atom::value, ticket);
  st.parked.push_back({ticket, std::move(q), rp});
  count_parked(self);
  catch_up(self);  // another process may have written it: look in the journal
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
  count_parked(self);
}

caf::behavior projection_actor(self_ptr self, std::shared_ptr<const detail::projection_kind> kind,
                               aggregate_context ctx, caf::actor store,
                               std::shared_ptr<detail::projection_progress> progress) {
  self->state.kind = std::move(kind);
  self->state.progress = std::move(progress);
  self->state.ctx = std::move(ctx);
  self->state.store = std::move(store);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    detail::save_final_checkpoint(self);
    self->quit(msg.reason);
  });
  self->request(self->state.ctx.writer, self->state.ctx.journal_timeout, subscribe_atom::value,
                caf::actor_cast<caf::actor>(self))
      .await([=](std::uint64_t head) {
               detail::count_parked_events(self);
               detail::load_checkpoint_then(self, head);
             },
             [=](caf::error& err) {
               self->state.instance = self->state.kind->make();
               fail(self, detail::explain_transport_error(std::move(err),
                                                          "subscribing projection " + self->state.kind->type_name,
                                                          self->state.ctx.journal_timeout));
             });
  return {
      [=](events_atom, const std::vector<stored_event>& events) {
        if (!events.empty()) self->state.progress->raise_head(events.back().position, events.back().recorded_at_us);
        auto& st = self->state;
        if (st.failure || st.paused || st.poison_wait || !settled(self)) return;  // read from the journal later
        if (self->state.kind->durable) return detail::queue_durable(self, events);
        if (apply_in_order(self, events) == applied::gap) return catch_up(self);  // read the gap from the journal
        answer_parked(self);
        detail::save_checkpoint_if_due(self);
      },
      [=](head_atom, std::uint64_t head) {  // another process appended: read the journal
        auto& st = self->state;
        st.progress->raise_head(head, 0);
        if (head <= std::max(st.position, st.sent_position) || st.failure || st.paused || st.poison_wait ||
            !settled(self))
          return;  // applied or on its way; or the journal is read later anyway
        catch_up(self);
      },
      [=](retry_atom) {
        if (settled(self)) return catch_up(self);
        self->delayed_send(self, std::chrono::milliseconds(100), retry_atom::value);
      },
      [=](detail::erased_query& q) -> caf::result<detail::erased_answer> {
        // Retrying an event, the projection has not caught up: the query waits for the outcome.
        if (!settled(self) || self->state.poison_wait) return park(self, q);
        if (!self->state.failure && q.after > self->state.position) return park(self, q);
        return answer(self, q);
      },
      [=](expire_atom, std::uint64_t ticket) { expire(self, ticket); },
      [=](poison_retry_atom) { detail::retry_poisoned(self); },
      [=](replay_parked_atom, std::uint64_t position) { return detail::replay_parked(self, position); },
      [=](pause_atom) { return detail::pause(self); },
      [=](resume_atom) { return detail::resume(self); },
      [=](reset_atom, std::uint64_t position) { return detail::reset(self, position); },
      [=](rebuild_atom) -> caf::result<void> {
        const auto& kind = *self->state.kind;
        if (!kind.durable) return detail::rebuild_in_shadow(self);
        if (kind.rebuild_in_place) return detail::rebuild_durable(self);
        return detail::rebuild_durable_in_shadow(self);
      },
  };
}

}  // namespace

namespace detail {

void fail(projection_self self, caf::error err) {
  auto& st = self->state;
  st.failure = std::move(err);
  st.progress->set_failure(describe(st.failure));
  st.progress->state = detail::projection_progress::phase::failed;
}

void answer_parked(projection_self self) {
  auto& st = self->state;
  if (st.poison_wait) return;  // the retry's outcome first
  std::erase_if(st.parked, [&](parked_query& p) {
    if (!st.failure && p.query.after > st.position) return false;
    if (st.failure) {
      p.promise.deliver(st.failure);
      return true;
    }
    if (st.kind->durable) {  // its tables are the read store's: the query runs there
      answer_durable(self, p.query, p.promise);
      return true;
    }
    auto res = st.instance->answer(p.query);
    if (res.error) p.promise.deliver(std::move(res.error));
    else p.promise.deliver(detail::erased_answer{std::move(res.result), st.position});
    return true;
  });
  self->state.progress->waiting_queries = self->state.parked.size();
}

// The reader applies the journal from the position on to its end, in place
// (the read store, for a durable read model, in its tables); the await holds
// live events and queries in the mailbox meanwhile.
// Once the position is past them, a parked event needs no skipping and a
// retried one no counting.
void forget_passed_poison(projection_self self) {
  auto& st = self->state;
  if (st.position >= st.skip_position) st.skip_position = 0;
  if (st.position >= st.poison_position) st.poison_position = st.poison_attempts = 0;
}

void catch_up(projection_self self) {
  auto& st = self->state;
  if (st.paused || st.poison_wait) return answer_parked(self);  // resume() or the retry catches up
  if (!settled(self)) return;  // the retry comes back
  if (st.applying) {  // a durable read model's chunk is with the read store: after it
    st.catch_up_after_apply = true;
    return;
  }
  if (st.failure) return answer_parked(self);
  auto job = std::make_shared<catchup_job>();
  job->instance = st.instance;
  job->progress = st.progress;
  st.progress->state = projection_progress::phase::catching_up;
  job->position = st.position;
  job->next_position = st.position + 1;
  job->projection_name = st.kind->type_name;
  job->skip_position = st.skip_position;
  job->filter = st.kind->catch_up_filter();
  st.catching_up = true;
  const auto& target = st.kind->durable ? st.store : st.ctx.reader;
  self->request(target, st.ctx.journal_timeout, catchup_atom::value, job)
      .await(
          [=] {
            self->state.catching_up = false;
            // By type, the log's last events may not be its own: it has looked that far.
            job->position = std::max(job->position, job->scanned_through);
            if (job->position > self->state.progress->position) self->state.progress->position = job->position;
            self->state.position = self->state.sent_position = job->position;
            self->state.pending.clear();
            forget_passed_poison(self);
            if (self->state.kind->durable) self->state.progress->checkpoint = job->position;
            self->state.progress->state =
                self->state.paused ? projection_progress::phase::paused : projection_progress::phase::live;
            answer_parked(self);
            save_checkpoint_if_due(self);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            st.catching_up = false;
            if (is_data_error(err)) {  // the reader's answer: it is done with the job
              st.position = st.sent_position = job->position;
              if (job->poisoned.position != 0) return poisoned(self, job->poisoned, err);
              fail(self, std::move(err));
              answer_parked(self);
            } else {
              // The journal did not answer in time (busy, or stopping): the
              // reader may still be working on the job. Tell it to stop, and
              // leave the read model alone until it has (queries wait, live
              // events are read from the journal later); then try again.
              job->abandoned.store(true);
              st.abandoned = job;
              self->delayed_send(self, std::chrono::seconds(1), retry_atom::value);
            }
          });
}


// True once no catch-up that timed out can still touch the instance. The
// reader holds the job while it works on it (its message, the chunks its
// second thread applies) and lets go when done, also when it stops: our
// reference is then the last. The fence pairs with the release of those
// references, so the reader's writes to the instance and the job are seen.
bool settled(projection_self self) {
  auto& st = self->state;
  if (!st.abandoned) return true;
  if (st.abandoned.use_count() > 1) return false;
  std::atomic_thread_fence(std::memory_order_acquire);
  st.position = st.sent_position = st.abandoned->position;
  st.pending.clear();
  st.abandoned.reset();
  return true;
}

}  // namespace detail

caf::actor spawn_projection_actor(caf::actor_system& sys, std::shared_ptr<const detail::projection_kind> kind,
                                  aggregate_context ctx, caf::actor store,
                                  std::shared_ptr<detail::projection_progress> progress) {
  return sys.spawn(projection_actor, std::move(kind), std::move(ctx), std::move(store), std::move(progress));
}

}  // namespace interlock
