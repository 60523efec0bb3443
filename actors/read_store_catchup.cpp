// A durable read model's catch-up on the read store's thread: the journal
// after its position, a chunk (`chunk` events) a transaction committed with
// the checkpoint it reaches, the next chunk read on a second thread while
// this one applies one. The same for a rebuild's shadow, in the shadow's
// store (actors/read_store_shadow.cpp).
#include <interlock/actors/read_store_state.hpp>

#include <interlock/actors/catchup_steps.hpp>
#include <interlock/persistence/event_chunk.hpp>

namespace interlock::detail {
namespace {

// A chunk of the journal read for a durable catch-up, checked as the
// reader's catch-up checks it (no hole, each stream's versions in order).
struct chunk_read {
  event_chunk events;
  std::size_t scanned = 0;
  std::uint64_t scanned_through = 0;  // by type: the end of the log it looked at (0: its last event's)
  caf::error failure;  // the scan stopped there: what it read before is good
};

std::shared_ptr<chunk_read> read_chunk(journal& log, std::size_t chunk, catchup_job& job) {
  auto out = std::make_shared<chunk_read>();
  auto n = scan_catch_up(log, chunk, job, [&](const event_view& e) {
    out->events.add(e);
    return caf::error{};
  });
  if (n) out->scanned = *n;
  else out->failure = std::move(n.error());
  out->scanned_through = std::exchange(job.scanned_through, 0);
  return out;
}

// The job's next chunk: the one read ahead on the second thread, else read now.
std::shared_ptr<chunk_read> next_chunk(read_store_self self, catchup_job& job) {
  auto& st = self->state;
  st.read_ahead.drain();  // the journal's connection is this thread's again
  if (auto ahead = std::static_pointer_cast<chunk_read>(std::exchange(job.read_ahead, nullptr))) return ahead;
  return read_chunk(*st.log, st.chunk, job);
}

// Reads the chunk after `current` on the second thread while this one applies.
void start_reading_ahead(read_store_self self, const std::shared_ptr<catchup_job>& job_ptr, const chunk_read& current) {
  auto& st = self->state;
  if (current.failure || current.scanned < st.chunk) return;
  auto ahead = std::make_shared<chunk_read>();
  job_ptr->read_ahead = ahead;
  st.read_ahead.submit([ahead, job_ptr, log = st.log.get(), chunk = st.chunk]() noexcept {
    try {
      *ahead = std::move(*read_chunk(*log, chunk, *job_ptr));
    } catch (...) {  // out of memory: the chunk is read again by the next job
      ahead->events = event_chunk{};
      ahead->scanned = 0;
      ahead->failure = make_error(errc::unavailable, "out of memory reading ahead for " + job_ptr->projection_name);
    }
  });
}

// `current` applied to `store` in one transaction with the checkpoint it
// reaches (job.position advances). A chunk that fails to apply leaves
// nothing behind (job.position as it was; job.poisoned names the event).
caf::error apply_chunk(read_store_self self, read_store& store, catchup_job& job, const chunk_read& current) {
  const auto committed = job.position;
  auto applied = in_transaction(store, *job.instance, job.projection_name, [&]() -> caf::expected<std::uint64_t> {
    if (auto err = check_position(store, job.projection_name, committed)) return err;
    for (std::size_t i = 0; i < current.events.size(); ++i) {
      const auto e = current.events.view(i);
      if (e.position != job.skip_position) {  // a parked event is passed over
        if (auto err = apply_event(self, *job.instance, job.projection_name, e, job.shadow)) {
          job.poisoned = to_stored(e);
          return err;
        }
      }
      job.position = e.position;
    }
    job.position = std::max(job.position, current.scanned_through);
    return job.position;
  });
  if (applied) return {};
  job.position = committed;
  return std::move(applied.error());
}

// The store a job applies to: the tables in use, or its rebuild's shadow.
read_store* store_of(read_store_self self, const catchup_job& job) {
  auto& st = self->state;
  if (!job.shadow) return st.store.get();
  auto it = st.shadows.find(job.projection_name);
  return it == st.shadows.end() ? nullptr : it->second.get();
}

caf::error no_shadow(const catchup_job& job) {
  return make_error(errc::unavailable, "the rebuild of projection " + job.projection_name + " was abandoned");
}

}  // namespace

caf::error apply_event(read_store_self self, projection_instance& instance, const std::string& name,
                       const event_view& e, bool rebuild) {
  auto err = guarded(e, [&] {
    return upcast_then(*self->state.upcasters, e, [&](const event_view& v, bool) {
      return instance.apply(v, self->state.scratch);
    });
  });
  if (!err) return {};
  return make_error(code_of(err).value_or(errc::corrupt_event),
                    (rebuild ? "the rebuild of projection " : "projection ") + name + " stopped: " + message_of(err));
}

caf::error check_position(read_store& store, const std::string& name, std::uint64_t expected) {
  auto cp = store.load_checkpoint(name);
  if (!cp) return std::move(cp.error());
  const std::uint64_t stored = *cp ? (*cp)->position : 0;
  if (stored == expected) return {};
  return make_error(errc::storage, "projection " + name + ": its tables are at position " + std::to_string(stored) +
                                       ", and it was about to apply the events after " + std::to_string(expected) +
                                       " (nothing applied; restart to go on from the tables)");
}

// One chunk, then the rest queued behind whatever else was asked meanwhile
// (queries, live chunks, other read models). A scan that stops (damage in
// the journal) stops after the events before it are stored. A shadow's
// failure ends its rebuild: the shadow is dropped (and its file deleted).
caf::result<void> catch_up(read_store_self self, std::shared_ptr<catchup_job> job_ptr) {
  auto& job = *job_ptr;
  auto* store = store_of(self, job);
  if (job.abandoned.load() || self->state.stopping->load() || store == nullptr) {
    self->state.read_ahead.drain();
    if (job.shadow) self->state.shadows.erase(job.projection_name);
    if (store == nullptr) return no_shadow(job);
    return make_error(errc::unavailable, job.abandoned.load() ? "the requester gave up waiting"
                                                              : "the application is stopping");
  }
  auto current = next_chunk(self, job);
  start_reading_ahead(self, job_ptr, *current);
  if (auto err = apply_chunk(self, *store, job, *current)) {
    self->state.read_ahead.drain();
    if (job.shadow) self->state.shadows.erase(job.projection_name);
    return err;
  }
  for (std::size_t i = 0; job.progress && i < current->events.size(); ++i)
    job.progress->applied_event(current->events.view(i).position, current->events.view(i).recorded_at_us);
  if (current->failure) {
    if (job.shadow) self->state.shadows.erase(job.projection_name);
    return std::move(current->failure);
  }
  if (current->scanned < self->state.chunk) return caf::unit;
  auto rp = self->make_response_promise();
  rp.delegate(caf::actor_cast<caf::actor>(self), catchup_atom::value, std::move(job_ptr));
  return rp;
}

caf::error catch_up_to(read_store_self self, read_store& store, catchup_job& job, std::uint64_t target) {
  auto& st = self->state;
  while (job.position < target) {
    st.read_ahead.drain();  // the journal's connection is this thread's
    auto current = read_chunk(*st.log, st.chunk, job);
    if (auto err = apply_chunk(self, store, job, *current)) return err;
    if (current->failure) return std::move(current->failure);
    if (current->scanned < st.chunk) break;  // the journal's end
  }
  return {};
}

}  // namespace interlock::detail
