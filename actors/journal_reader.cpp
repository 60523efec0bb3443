#include <interlock/actors/journal_reader.hpp>

#include <interlock/actors/messages.hpp>

#include <limits>

namespace interlock {
namespace {

struct reader_state {
  std::unique_ptr<interlock::journal> db;
  std::size_t chunk = 4096;  // events per scan before other requests get a turn
  static inline const char* name = "interlock.journal_reader";
};

using events_result = caf::result<std::vector<stored_event>>;

events_result to_result(caf::expected<std::vector<stored_event>> events) {
  if (!events) return std::move(events.error());
  return std::move(*events);
}

using self_ptr = caf::stateful_actor<reader_state>*;

// Replays one chunk of a stream into an aggregate, in place (no event is
// copied), then queues the rest behind whatever else was asked meanwhile.
caf::result<void> recover(self_ptr self, std::shared_ptr<detail::aggregate_instance> instance,
                          const std::string& type, const std::string& id) {
  caf::error failure;
  auto scanned = self->state.db->scan_stream(type, id, instance->version() + 1, self->state.chunk,
                                             [&](const event_view& e) {
                                               failure = instance->replay(e);
                                               return !failure;
                                             });
  if (!scanned) return std::move(scanned.error());
  if (failure) return failure;
  if (*scanned < self->state.chunk) return {};
  auto rp = self->make_response_promise();
  rp.delegate(caf::actor_cast<caf::actor>(self), recover_atom::value, std::move(instance), type, id);
  return rp;
}

// Applies one chunk of the journal from job.position + 1 on to a projection,
// then queues the rest like recover().
caf::result<void> catch_up(self_ptr self, std::shared_ptr<detail::catchup_job> job_ptr) {
  auto& job = *job_ptr;
  caf::error failure;
  event_envelope scratch;
  auto scanned = self->state.db->scan_all(job.position + 1, self->state.chunk, [&](const event_view& e) {
    if (e.position != job.position + 1) {  // the journal's positions are gapless: a hole is damage
      failure = make_error(errc::corrupt_event, "projection " + job.projection_name + " stopped: global position " +
                                                    std::to_string(job.position + 1) + " is missing from the journal");
      return false;
    }
    if (auto err = job.instance->apply(e, scratch)) {
      failure = make_error(code_of(err).value_or(errc::corrupt_event),
                           "projection " + job.projection_name + " stopped: " + message_of(err));
      return false;
    }
    job.position = e.position;
    return true;
  });
  if (!scanned) return std::move(scanned.error());
  if (failure) return failure;
  if (*scanned < self->state.chunk) return {};
  auto rp = self->make_response_promise();
  rp.delegate(caf::actor_cast<caf::actor>(self), catchup_atom::value, std::move(job_ptr));
  return rp;
}

caf::behavior journal_reader(self_ptr self, std::shared_ptr<std::unique_ptr<journal>> holder, std::size_t chunk) {
  self->state.db = std::move(*holder);
  self->state.chunk = std::max<std::size_t>(1, chunk);
  return {
      [=](read_stream_atom, const std::string& type, const std::string& id, std::uint64_t from,
          std::uint64_t max) -> events_result {
        return to_result(self->state.db->read_stream(type, id, from, max));
      },
      [=](read_all_atom, std::uint64_t from, std::uint64_t max) -> events_result {
        return to_result(self->state.db->read_all(from, max));
      },
      [=](recover_atom, std::shared_ptr<detail::aggregate_instance>& instance, const std::string& type,
          const std::string& id) { return recover(self, std::move(instance), type, id); },
      [=](catchup_atom, std::shared_ptr<detail::catchup_job>& job) { return catch_up(self, std::move(job)); },
  };
}

}  // namespace

caf::actor spawn_journal_reader(caf::actor_system& sys, std::unique_ptr<journal> j, std::size_t chunk) {
  auto holder = std::make_shared<std::unique_ptr<journal>>(std::move(j));
  return sys.spawn<caf::detached>(journal_reader, holder, chunk);
}

}  // namespace interlock
