// Events a projection's handler fails on (it throws, or the event does not
// decode). The projection tries the event again after a backoff that doubles
// (poison_backoff, then twice that, ...), up to the type's poison_retries;
// meanwhile it applies nothing (live events are read from the journal after).
// Then, as the type's on_poison says, it stops with the error naming the event,
// or parks it: the event is recorded in the read store's parked_events table
// and passed over, and the projection goes on. A parked event can be listed
// (application::parked_events) and applied later (replay_parked).
#include <interlock/actors/projection_state.hpp>

#include <interlock/core/log.hpp>

namespace interlock::detail {
namespace {

std::chrono::milliseconds backoff(const projection_kind& kind, std::uint32_t attempts) {
  return kind.poison_backoff * (1u << std::min<std::uint32_t>(attempts - 1, 16));
}

void park(projection_self self, const stored_event& e, const std::string& why, std::uint32_t attempts) {
  auto& st = self->state;
  parked_event p{e.position, e.aggregate_type + "/" + e.aggregate_id, e.version, e.event_type, why, attempts, 0};
  log(log_level::warning, "projection " + st.kind->type_name + " parked the event at position " +
                              std::to_string(e.position) + " and goes on: " + why);
  self->request(st.store, st.ctx.journal_timeout, park_atom::value, st.kind->type_name, p)
      .then([] {}, [=](caf::error& err) {
        log(log_level::error, "projection " + self->state.kind->type_name + ": the parked event at position " +
                                  std::to_string(p.position) + " was not recorded: " + describe(err));
      });
  ++st.progress->parked;
  st.skip_position = e.position;
  st.poison_position = st.poison_attempts = 0;
  catch_up(self);
}

}  // namespace

void poisoned(projection_self self, const stored_event& e, const caf::error& err) {
  auto& st = self->state;
  const auto& kind = *st.kind;
  if (e.position != st.poison_position) {
    st.poison_position = e.position;
    // A durable read model's live chunk that failed on it was the first attempt.
    const auto [first, last] = std::exchange(st.failed_chunk, {0, 0});
    st.poison_attempts = first <= e.position && e.position <= last ? 1 : 0;
  }
  ++st.poison_attempts;
  if (st.poison_attempts <= kind.poison_retries) {
    st.poison_wait = true;
    self->delayed_send(self, backoff(kind, st.poison_attempts), poison_retry_atom::value);
    return answer_parked(self);
  }
  auto why = message_of(err) + " (position " + std::to_string(e.position) + ", " +
             std::to_string(st.poison_attempts) + (st.poison_attempts == 1 ? " attempt)" : " attempts)");
  if (kind.on_poison == poison_policy::park) return park(self, e, why, st.poison_attempts);
  fail(self, make_error(code_of(err).value_or(errc::corrupt_event), why));
  answer_parked(self);
}

void retry_poisoned(projection_self self) {
  auto& st = self->state;
  if (!st.poison_wait) return;
  st.poison_wait = false;
  st.pending.clear();
  st.sent_position = st.position;
  catch_up(self);
}

namespace {

// Applies `e` (parked by this projection) to the read model and unparks it.
void apply_parked(projection_self self, const stored_event& e, caf::response_promise rp) {
  auto& st = self->state;
  const auto& name = st.kind->type_name;
  auto unparked = [=]() mutable {
    if (self->state.progress->parked > 0) --self->state.progress->parked;
    rp.deliver(caf::unit);
  };
  if (st.kind->durable) {  // applied and unparked in one transaction of the read store
    self->request(st.store, st.ctx.journal_timeout, durable_replay_atom::value, st.instance, name, e)
        .then(unparked, [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return;
  }
  if (!settled(self))
    return rp.deliver(make_error(errc::unavailable, "projection " + name + " is busy catching up; try again"));
  if (auto err = st.instance->apply(view_of(e), st.scratch)) return rp.deliver(std::move(err));
  self->request(st.store, st.ctx.journal_timeout, unpark_atom::value, name, e.position)
      .then(unparked, [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

caf::error not_parked(const std::string& name, std::uint64_t position) {
  return make_error(errc::invalid_argument,
                    "projection " + name + " has no parked event at position " + std::to_string(position));
}

}  // namespace

caf::result<void> replay_parked(projection_self self, std::uint64_t position) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  const auto name = st.kind->type_name;
  // Only a parked event: any other was applied already, or will be.
  self->request(st.store, st.ctx.journal_timeout, parked_atom::value, name)
      .then(
          [=](const std::vector<parked_event>& all) mutable {
            if (std::none_of(all.begin(), all.end(), [&](auto& p) { return p.position == position; }))
              return rp.deliver(not_parked(name, position));
            auto& st = self->state;
            self->request(st.ctx.reader, st.ctx.journal_timeout, read_all_atom::value, position, std::uint64_t{1})
                .then(
                    [=](const std::vector<stored_event>& events) mutable {
                      if (events.empty() || events.front().position != position)
                        return rp.deliver(make_error(errc::corrupt_event, "the journal has no event at position " +
                                                                              std::to_string(position)));
                      apply_parked(self, events.front(), rp);
                    },
                    [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

void count_parked_events(projection_self self) {
  auto& st = self->state;
  self->request(st.store, st.ctx.journal_timeout, parked_atom::value, st.kind->type_name)
      .then([=](const std::vector<parked_event>& all) { self->state.progress->parked = all.size(); },
            [](caf::error&) {});
}

}  // namespace interlock::detail
