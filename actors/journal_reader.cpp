#include <interlock/actors/journal_reader.hpp>

#include <interlock/actors/apply_pipeline.hpp>
#include <interlock/actors/catchup_steps.hpp>
#include <interlock/actors/messages.hpp>
#include <interlock/persistence/event_chunk.hpp>

#include <limits>
#include <unordered_set>

#include <interlock/core/log.hpp>

namespace interlock {
namespace {

using detail::apply_to;
using detail::guarded;
using detail::scan_catch_up;
using detail::upcast_then;

struct reader_state {
  std::unique_ptr<interlock::journal> db;
  std::size_t chunk = 4096;  // events per scan before other requests get a turn
  std::unordered_set<std::string> reported_snapshot_types;
  std::shared_ptr<const upcaster_chain> upcasters;
  detail::apply_pipeline pipeline;  // applies long recoveries' chunks beside the reads
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

bool within_bounds(const detail::recovery_job& job, const event_view& e) {
  return e.version <= job.max_version && e.recorded_at_us <= job.max_recorded_at_us;
}

// A job whose requester gave up (its request timed out) stops at its next chunk.
caf::error abandoned_error() { return make_error(errc::unavailable, "the requester gave up waiting"); }

// Applies `e` (or what the upcasters make of it) to the job's instance.
caf::error replay_into(detail::recovery_job& job, const upcaster_chain& upcasters, const event_view& e) {
  return guarded(e, [&] {
    return upcast_then(upcasters, e, [&](const event_view& v, bool more) {
      auto err = job.instance->replay(v, more);
      if (!err && job.keep_last) job.last = to_stored(v);
      return err;
    });
  });
}

// Hands `chunk` to the second thread, which calls apply(job, upcasters, event)
// on its events in order; the first error is kept in the job and stops it.
template <class Job, class Apply>
void apply_later(self_ptr self, std::shared_ptr<Job> job_ptr, std::shared_ptr<event_chunk> chunk, Apply apply) {
  if (chunk->empty()) return;
  self->state.pipeline.submit([job_ptr, chunk, upcasters = self->state.upcasters, apply]() mutable {
    auto& job = *job_ptr;
    if (job.failed.load() || job.abandoned.load()) return;
    for (std::size_t i = 0; i < chunk->size(); ++i)
      if (auto err = apply(job, *upcasters, chunk->view(i))) {
        job.failure = std::move(err);
        job.failed.store(true);
        return;
      }
  });
}

// Scans one chunk of the job's stream from job.next_version, passing each
// event within the job's bounds to `take` (false: stop); sets `reached_bound`
// at the first event beyond them. That event is not applied, but a break in
// the versions it shows counts if the loaded state is missing a version
// (time travel to version 3 of a stream 1, 2, 4: 3 would pass for the end)
// or it repeats one; a gap above a version bound does not touch the state.
template <class Take>
caf::expected<std::size_t> scan_recovery(self_ptr self, detail::recovery_job& job, bool& reached_bound, Take take) {
  caf::error failure;
  auto next = job.next_version;
  auto scanned = self->state.db->scan_stream(
      job.aggregate_type, job.aggregate_id, job.next_version, self->state.chunk,
      [&](const event_view& e) {
        if (within_bounds(job, e)) {
          next = e.version + 1;
          return take(e);
        }
        if (e.version < next || (e.version > next && next <= job.max_version))
          failure = detail::version_break(e, next);
        reached_bound = true;
        return false;
      },
      job.keep_last ? scan_fields::all : scan_fields::without_ids);
  if (failure) return failure;
  return scanned;
}

// Reads one chunk of a stream and applies it in place, on this thread (no
// event is copied). How every recovery starts, and all of a short one.
caf::expected<std::size_t> recover_inline(self_ptr self, detail::recovery_job& job, bool& reached_bound) {
  caf::error failure;
  auto scanned = scan_recovery(self, job, reached_bound, [&](const event_view& e) {
    failure = replay_into(job, *self->state.upcasters, e);
    return !failure;
  });
  job.next_version = job.instance->version() + 1;
  if (failure) return failure;
  return scanned;
}

// Reads one chunk of a long stream into a buffer and hands it to the second
// thread, which applies it while this thread reads the next chunk.
caf::expected<std::size_t> recover_pipelined(self_ptr self, std::shared_ptr<detail::recovery_job> job_ptr,
                                             bool& reached_bound) {
  auto& job = *job_ptr;
  auto chunk = std::make_shared<event_chunk>();
  auto scanned = scan_recovery(self, job, reached_bound, [&](const event_view& e) {
    chunk->add(e);
    job.next_version = e.version + 1;
    return true;
  });
  if (!scanned) return scanned;
  apply_later(self, std::move(job_ptr), std::move(chunk), replay_into);
  return scanned;
}

// The reply to a job once it is over: its chunks on the second thread are
// applied first (the instance is then the requester's again), and a failure
// there is the earlier one, so it is the one reported.
template <class Job>
caf::result<void> finish(self_ptr self, Job& job, caf::error err = {}) {
  if (job.pipelined) self->state.pipeline.drain();
  if (job.failed.load()) return std::move(job.failure);
  if (err) return err;
  return caf::unit;
}

// Queues the job's next chunk behind whatever else was asked meanwhile; the
// chunks after the first are pipelined.
template <class Atom, class Job>
caf::result<void> continue_later(self_ptr self, Atom atom, std::shared_ptr<Job> job_ptr) {
  job_ptr->pipelined = true;
  auto rp = self->make_response_promise();
  rp.delegate(caf::actor_cast<caf::actor>(self), atom, std::move(job_ptr));
  return rp;
}

// Loads one chunk of a stream into an aggregate, then queues the rest. A
// stream longer than one chunk goes on pipelined: this thread reads, the
// second thread applies.
caf::result<void> recover(self_ptr self, std::shared_ptr<detail::recovery_job> job_ptr) {
  auto& job = *job_ptr;
  if (!job.snapshot_checked) {
    if (auto err = load_snapshot(self, job)) return err;
    job.next_version = job.instance->version() + 1;
  }
  if (job.abandoned.load()) return finish(self, job, abandoned_error());
  bool reached_bound = false;
  auto scanned = job.pipelined ? recover_pipelined(self, job_ptr, reached_bound)
                               : recover_inline(self, job, reached_bound);
  if (!scanned) return finish(self, job, std::move(scanned.error()));
  if (reached_bound || *scanned < self->state.chunk || job.failed.load()) return finish(self, job);
  return continue_later(self, recover_atom::value, std::move(job_ptr));
}

// Applies one chunk of the journal to a projection in place, on this thread.
caf::expected<std::size_t> catch_up_inline(self_ptr self, detail::catchup_job& job) {
  event_envelope scratch;
  return scan_catch_up(*self->state.db, self->state.chunk, job,
                       [&](const event_view& e) { return apply_to(job, *self->state.upcasters, e, scratch); });
}

// Reads one chunk into a buffer and hands it to the second thread, which
// applies it while this thread reads the next.
caf::expected<std::size_t> catch_up_pipelined(self_ptr self, std::shared_ptr<detail::catchup_job> job_ptr) {
  auto chunk = std::make_shared<event_chunk>();
  auto scanned = scan_catch_up(*self->state.db, self->state.chunk, *job_ptr, [&](const event_view& e) {
    chunk->add(e);
    return caf::error{};
  });
  apply_later(self, std::move(job_ptr), std::move(chunk),
              [scratch = event_envelope{}](detail::catchup_job& job, const upcaster_chain& upcasters,
                                           const event_view& e) mutable { return apply_to(job, upcasters, e, scratch); });
  return scanned;
}

// Applies one chunk of the journal from job.position + 1 on to a projection,
// then queues the rest like recover(), pipelined the same way.
caf::result<void> catch_up(self_ptr self, std::shared_ptr<detail::catchup_job> job_ptr) {
  auto& job = *job_ptr;
  if (job.abandoned.load()) return finish(self, job, abandoned_error());
  // The job's first chunk, when the projection knows of nothing past its
  // position (a start, a rebuild): how far it has to go, for status().
  if (job.progress && job.next_position == job.position + 1 && job.progress->head.load() <= job.position)
    if (auto last = self->state.db->last_position()) job.progress->raise_head(*last, 0);
  auto scanned = job.pipelined ? catch_up_pipelined(self, job_ptr) : catch_up_inline(self, job);
  if (!scanned) return finish(self, job, std::move(scanned.error()));
  if (*scanned < self->state.chunk || job.failed.load()) return finish(self, job);
  return continue_later(self, catchup_atom::value, std::move(job_ptr));
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
