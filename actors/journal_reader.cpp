#include <interlock/actors/journal_reader.hpp>

#include <interlock/actors/messages.hpp>

#include <limits>
#include <unordered_set>

#include <interlock/runtime/log.hpp>

namespace interlock {
namespace {

struct reader_state {
  std::unique_ptr<interlock::journal> db;
  std::size_t chunk = 4096;  // events per scan before other requests get a turn
  std::unordered_set<std::string> reported_snapshot_types;
  std::shared_ptr<const upcaster_chain> upcasters;
  static inline const char* name = "interlock.journal_reader";
};

using events_result = caf::result<std::vector<stored_event>>;

events_result to_result(caf::expected<std::vector<stored_event>> events) {
  if (!events) return std::move(events.error());
  return std::move(*events);
}

using self_ptr = caf::stateful_actor<reader_state>*;

// A snapshot the code cannot use costs a full replay, never a wrong state:
// say so once per aggregate type and application (a schema change hits every
// instance of the type).
void report_unusable_snapshot(self_ptr self, const std::string& aggregate_type, const caf::error& why) {
  if (!self->state.reported_snapshot_types.insert(aggregate_type).second) return;
  log(log_level::warning, "falling back to a full replay of " + aggregate_type + " streams whose snapshot cannot be used: " +
                              message_of(why) + " (reported once per aggregate type)");
}

// Starts a fresh instance from its newest usable snapshot within the job's bounds.
caf::error load_snapshot(self_ptr self, detail::recovery_job& job) {
  job.snapshot_checked = true;
  auto& instance = *job.instance;
  if (instance.version() != 0 || !instance.snapshots_enabled()) return {};
  auto snap = self->state.db->load_snapshot(job.aggregate_type, job.aggregate_id, job.max_version,
                                            job.max_recorded_at_us);
  if (!snap) return std::move(snap.error());
  if (!*snap) return {};
  if (auto err = instance.restore(**snap)) {
    report_unusable_snapshot(self, job.aggregate_type, err);
    return {};
  }
  if (job.keep_last) {  // the envelope of the event the snapshot ends with
    auto last = self->state.db->read_stream(job.aggregate_type, job.aggregate_id, (*snap)->version, 1);
    if (!last) return std::move(last.error());
    if (!last->empty()) job.last = std::move(last->front());
  }
  return {};
}

// Calls `apply(view, more_of_same)` for `e`, or for each event the upcasters
// turn it into (they keep e's envelope: position, stream version, ids).
template <class Apply>
caf::error upcast_then(const upcaster_chain& upcasters, const event_view& e, Apply&& apply) {
  if (!upcasters.needs_upcast(e.event_type, e.schema_version)) return apply(e, false);
  auto events = upcasters.upcast(e.event_type, e.schema_version, e.payload);
  if (!events)
    return make_error(code_of(events.error()).value_or(errc::schema_mismatch),
                      detail::describe_event(e) + ": " + message_of(events.error()));
  bool more = false;
  for (auto& ev : *events) {
    const auto payload = ev.payload.dump();
    auto view = e;
    view.event_type = ev.type;
    view.schema_version = ev.schema_version;
    view.payload = payload;
    if (auto err = apply(view, more)) return err;
    more = true;
  }
  return {};
}

bool within_bounds(const detail::recovery_job& job, const event_view& e) {
  return e.version <= job.max_version && e.recorded_at_us <= job.max_recorded_at_us;
}

// Loads one chunk of a stream into an aggregate, in place (no event is
// copied), then queues the rest behind whatever else was asked meanwhile.
caf::result<void> recover(self_ptr self, std::shared_ptr<detail::recovery_job> job_ptr) {
  auto& job = *job_ptr;
  if (!job.snapshot_checked)
    if (auto err = load_snapshot(self, job)) return err;
  caf::error failure;
  bool reached_bound = false;
  auto& instance = *job.instance;
  auto scanned = self->state.db->scan_stream(job.aggregate_type, job.aggregate_id, instance.version() + 1,
                                             self->state.chunk, [&](const event_view& e) {
                                               if (!within_bounds(job, e)) {
                                                 reached_bound = true;
                                                 return false;
                                               }
                                               auto err = upcast_then(*self->state.upcasters, e,
                                                                      [&](const event_view& v, bool more) {
                                                                        auto err = instance.replay(v, more);
                                                                        if (!err && job.keep_last) job.last = to_stored(v);
                                                                        return err;
                                                                      });
                                               if (!err) return true;
                                               failure = std::move(err);
                                               return false;
                                             },
                                             job.keep_last ? scan_fields::all : scan_fields::without_ids);
  if (!scanned) return std::move(scanned.error());
  if (failure) return failure;
  if (reached_bound || *scanned < self->state.chunk) return {};
  auto rp = self->make_response_promise();
  rp.delegate(caf::actor_cast<caf::actor>(self), recover_atom::value, std::move(job_ptr));
  return rp;
}

// Applies one chunk of the journal from job.position + 1 on to a projection,
// then queues the rest like recover().
caf::result<void> catch_up(self_ptr self, std::shared_ptr<detail::catchup_job> job_ptr) {
  auto& job = *job_ptr;
  caf::error failure;
  event_envelope scratch;
  const auto fields = job.instance->reads_ids() ? scan_fields::all : scan_fields::without_ids;
  auto scanned = self->state.db->scan_all(job.position + 1, self->state.chunk, [&](const event_view& e) {
    if (e.position != job.position + 1) {  // the journal's positions are gapless: a hole is damage
      failure = make_error(errc::corrupt_event, "projection " + job.projection_name + " stopped: global position " +
                                                    std::to_string(job.position + 1) + " is missing from the journal");
      return false;
    }
    auto err = upcast_then(*self->state.upcasters, e, [&](const event_view& v, bool) {
      return job.instance->apply(v, scratch);
    });
    if (err) {
      failure = make_error(code_of(err).value_or(errc::corrupt_event),
                           "projection " + job.projection_name + " stopped: " + message_of(err));
      return false;
    }
    job.position = e.position;
    return true;
  }, fields);
  if (!scanned) return std::move(scanned.error());
  if (failure) return failure;
  if (*scanned < self->state.chunk) return {};
  auto rp = self->make_response_promise();
  rp.delegate(caf::actor_cast<caf::actor>(self), catchup_atom::value, std::move(job_ptr));
  return rp;
}

caf::behavior journal_reader(self_ptr self, std::shared_ptr<std::unique_ptr<journal>> holder, std::size_t chunk,
                             std::shared_ptr<const upcaster_chain> upcasters) {
  self->state.db = std::move(*holder);
  self->state.upcasters = upcasters ? std::move(upcasters) : std::make_shared<const upcaster_chain>();
  self->state.chunk = std::max<std::size_t>(1, chunk);
  return {
      [=](read_stream_atom, const std::string& type, const std::string& id, std::uint64_t from,
          std::uint64_t max) -> events_result {
        return to_result(self->state.db->read_stream(type, id, from, max));
      },
      [=](read_all_atom, std::uint64_t from, std::uint64_t max) -> events_result {
        return to_result(self->state.db->read_all(from, max));
      },
      [=](recover_atom, std::shared_ptr<detail::recovery_job>& job) { return recover(self, std::move(job)); },
      [=](catchup_atom, std::shared_ptr<detail::catchup_job>& job) { return catch_up(self, std::move(job)); },
      [=](find_command_atom, const std::string& command_id) -> caf::result<command_record> {
        auto found = self->state.db->find_command(command_id);
        if (!found) return std::move(found.error());
        return found->value_or(command_record{});
      },
  };
}

}  // namespace

caf::actor spawn_journal_reader(caf::actor_system& sys, std::unique_ptr<journal> j, std::size_t chunk,
                                std::shared_ptr<const upcaster_chain> upcasters) {
  auto holder = std::make_shared<std::unique_ptr<journal>>(std::move(j));
  return sys.spawn<caf::detached>(journal_reader, holder, chunk, std::move(upcasters));
}

}  // namespace interlock
