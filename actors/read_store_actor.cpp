#include <interlock/actors/read_store_actor.hpp>

#include <interlock/actors/apply_pipeline.hpp>
#include <interlock/actors/catchup_steps.hpp>
#include <interlock/actors/messages.hpp>
#include <interlock/core/log.hpp>
#include <interlock/persistence/event_chunk.hpp>

namespace interlock {
namespace {

using detail::instance_ptr;

struct read_store_state {
  std::unique_ptr<read_store> store;
  std::unique_ptr<journal> log;  // durable catch-ups read it
  std::size_t chunk = 4096;      // events per transaction of a catch-up
  std::shared_ptr<const upcaster_chain> upcasters;
  event_envelope scratch;
  detail::apply_pipeline read_ahead{1};  // reads a catch-up's next chunk while this thread applies one
  std::shared_ptr<std::atomic<bool>> stopping;  // set when the application stops: catch-ups end at their next chunk
  static inline const char* name = "interlock.read_store";
};

using self_ptr = caf::stateful_actor<read_store_state>*;

caf::result<caf::unit_t> done(caf::error err) {
  if (err) return err;
  return caf::unit;
}

// Runs `body` (returning a caf::error) in one transaction: committed if it
// succeeds, rolled back if it or the commit fails. `instance` (whose
// handlers ran in it) is told which, once it is over.
template <class Body>
caf::error atomically(read_store& store, detail::projection_instance& instance, Body&& body) {
  if (auto err = store.begin()) return err;
  auto err = body();
  if (!err) err = store.commit();
  if (err) store.rollback();
  instance.transaction_ended(!err);
  return err;
}

// Runs `body` in a transaction that also saves `name`'s checkpoint at the
// position `body` returns; nothing of it stays if either fails.
template <class Body>
caf::expected<std::uint64_t> in_transaction(read_store& store, detail::projection_instance& instance,
                                            const std::string& name, Body&& body) {
  std::uint64_t reached = 0;
  auto err = atomically(store, instance, [&]() -> caf::error {
    caf::expected<std::uint64_t> position = body();
    if (!position) return std::move(position.error());
    reached = *position;
    projection_checkpoint cp;
    cp.position = reached;
    return store.save_checkpoint(name, cp);
  });
  if (err) return err;
  return reached;
}

caf::result<std::uint64_t> open_durable(self_ptr self, const instance_ptr& instance, const std::string& name) {
  auto& store = *self->state.store;
  instance->attach(&store.sql());
  std::uint64_t position = 0;
  auto opened = in_transaction(store, *instance, name, [&]() -> caf::expected<std::uint64_t> {
    if (auto err = instance->create_tables()) return err;
    auto cp = store.load_checkpoint(name);
    if (!cp) return std::move(cp.error());
    if (*cp && !(*cp)->state.empty()) {  // a snapshot of the type when it kept its read model in memory
      if (auto err = instance->reset_tables()) return err;
      log(log_level::warning, "projection " + name + ": its checkpoint is a read-model snapshot, not a position "
                              "of its tables: emptied them with reset(), applying the journal from position 0");
    } else if (*cp) {
      position = (*cp)->position;
    }
    return position;
  });
  if (!opened) return std::move(opened.error());
  return *opened;
}

caf::error apply_event(self_ptr self, detail::projection_instance& instance, const std::string& name, const event_view& e) {
  auto err = detail::guarded(e, [&] {
    return detail::upcast_then(*self->state.upcasters, e, [&](const event_view& v, bool) {
      return instance.apply(v, self->state.scratch);
    });
  });
  if (!err) return {};
  return make_error(code_of(err).value_or(errc::corrupt_event), "projection " + name + " stopped: " + message_of(err));
}

// The tables of `name` reflect the journal up to `expected` (a projection that
// lost count would otherwise apply events twice or skip some, silently).
caf::error check_position(read_store& store, const std::string& name, std::uint64_t expected) {
  auto cp = store.load_checkpoint(name);
  if (!cp) return std::move(cp.error());
  const std::uint64_t stored = *cp ? (*cp)->position : 0;
  if (stored == expected) return {};
  return make_error(errc::storage, "projection " + name + ": its tables are at position " + std::to_string(stored) +
                                       ", and it was about to apply the events after " + std::to_string(expected) +
                                       " (nothing applied; restart to go on from the tables)");
}

// Live events of positions (after, through], those of other types left out.
caf::result<std::uint64_t> apply_live(self_ptr self, const instance_ptr& instance, const std::string& name,
                                      const std::vector<stored_event>& events, std::uint64_t after,
                                      std::uint64_t through) {
  auto applied = in_transaction(*self->state.store, *instance, name, [&]() -> caf::expected<std::uint64_t> {
    if (auto err = check_position(*self->state.store, name, after)) return err;
    for (auto& e : events)
      if (auto err = apply_event(self, *instance, name, view_of(e))) return err;
    return through;
  });
  if (!applied) return std::move(applied.error());
  return *applied;
}

// A chunk of the journal read for a durable catch-up, checked as the
// reader's catch-up checks it (no hole, each stream's versions in order).
struct chunk_read {
  event_chunk events;
  std::size_t scanned = 0;
  std::uint64_t scanned_through = 0;  // by type: the end of the log it looked at (0: its last event's)
  caf::error failure;  // the scan stopped there: what it read before is good
};

std::shared_ptr<chunk_read> read_chunk(journal& log, std::size_t chunk, detail::catchup_job& job) {
  auto out = std::make_shared<chunk_read>();
  auto n = detail::scan_catch_up(log, chunk, job, [&](const event_view& e) {
    out->events.add(e);
    return caf::error{};
  });
  if (n) out->scanned = *n;
  else out->failure = std::move(n.error());
  out->scanned_through = std::exchange(job.scanned_through, 0);
  return out;
}

// The job's next chunk: the one read ahead on the second thread, else read now.
std::shared_ptr<chunk_read> next_chunk(self_ptr self, detail::catchup_job& job) {
  auto& st = self->state;
  st.read_ahead.drain();  // the journal's connection is this thread's again
  if (auto ahead = std::static_pointer_cast<chunk_read>(std::exchange(job.read_ahead, nullptr))) return ahead;
  return read_chunk(*st.log, st.chunk, job);
}

// Reads the chunk after `current` on the second thread while this one applies.
void start_reading_ahead(self_ptr self, const std::shared_ptr<detail::catchup_job>& job_ptr, const chunk_read& current) {
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

// One chunk of a durable catch-up in one transaction with the checkpoint it
// reaches, then the rest queued behind whatever else was asked meanwhile
// (queries, other read models). The next chunk is read on a second thread
// while this one is applied. A chunk that fails to apply leaves nothing
// behind; a scan that stops (damage in the journal) stops after the events
// before it are stored.
caf::result<void> catch_up(self_ptr self, std::shared_ptr<detail::catchup_job> job_ptr) {
  auto& job = *job_ptr;
  if (job.abandoned.load() || self->state.stopping->load()) {
    self->state.read_ahead.drain();
    return make_error(errc::unavailable, job.abandoned.load() ? "the requester gave up waiting"
                                                              : "the application is stopping");
  }
  auto current = next_chunk(self, job);
  start_reading_ahead(self, job_ptr, *current);
  const auto committed = job.position;
  auto applied = in_transaction(*self->state.store, *job.instance, job.projection_name, [&]() -> caf::expected<std::uint64_t> {
    if (auto err = check_position(*self->state.store, job.projection_name, committed)) return err;
    for (std::size_t i = 0; i < current->events.size(); ++i) {
      const auto e = current->events.view(i);
      if (e.position != job.skip_position) {  // a parked event is passed over
        if (auto err = apply_event(self, *job.instance, job.projection_name, e)) {
          job.poisoned = to_stored(e);
          return err;
        }
      }
      job.position = e.position;
    }
    job.position = std::max(job.position, current->scanned_through);
    return job.position;
  });
  if (!applied) {
    self->state.read_ahead.drain();
    job.position = committed;
    return std::move(applied.error());
  }
  for (std::size_t i = 0; job.progress && i < current->events.size(); ++i)
    job.progress->applied_event(current->events.view(i).position, current->events.view(i).recorded_at_us);
  if (current->failure) return std::move(current->failure);
  if (current->scanned < self->state.chunk) return caf::unit;
  auto rp = self->make_response_promise();
  rp.delegate(caf::actor_cast<caf::actor>(self), catchup_atom::value, std::move(job_ptr));
  return rp;
}

caf::result<detail::erased_answer> answer(self_ptr self, const instance_ptr& instance, const std::string& name,
                                          const detail::erased_query& q) {
  auto out = instance->answer(q);
  if (out.error) return std::move(out.error);
  auto cp = self->state.store->load_checkpoint(name);
  return detail::erased_answer{std::move(out.result), cp && *cp ? (*cp)->position : 0};
}

// A parked event applied now, out of order, and unparked in the same transaction.
caf::result<caf::unit_t> replay_parked(self_ptr self, const instance_ptr& instance, const std::string& name,
                                       const stored_event& e) {
  auto& store = *self->state.store;
  return done(atomically(store, *instance, [&] {
    auto err = apply_event(self, *instance, name, view_of(e));
    return err ? err : store.unpark(name, e.position);
  }));
}

caf::result<caf::unit_t> reset(self_ptr self, const instance_ptr& instance, const std::string& name) {
  auto& store = *self->state.store;
  return done(atomically(store, *instance, [&] {
    auto err = instance->reset_tables();
    return err ? err : store.remove_checkpoint(name);
  }));
}

caf::behavior read_store_actor(self_ptr self, std::shared_ptr<std::unique_ptr<read_store>> store,
                               std::shared_ptr<std::unique_ptr<journal>> log, std::size_t chunk,
                               std::shared_ptr<const upcaster_chain> upcasters,
                               std::shared_ptr<std::atomic<bool>> stopping) {
  auto& st = self->state;
  st.stopping = std::move(stopping);
  st.store = std::move(*store);
  st.log = std::move(*log);
  st.chunk = std::max<std::size_t>(1, chunk);
  st.upcasters = upcasters ? std::move(upcasters) : std::make_shared<const upcaster_chain>();
  return {
      [=](checkpoint_load_atom, const std::string& name) -> caf::result<detail::checkpoint_ptr> {
        auto found = self->state.store->load_checkpoint(name);
        if (!found) return std::move(found.error());
        if (!*found) return detail::checkpoint_ptr{};
        return std::make_shared<const projection_checkpoint>(std::move(**found));
      },
      [=](checkpoint_save_atom, const std::string& name, const detail::checkpoint_ptr& cp) {
        return done(self->state.store->save_checkpoint(name, *cp));
      },
      [=](checkpoint_drop_atom, const std::string& name) { return done(self->state.store->remove_checkpoint(name)); },
      [=](durable_open_atom, const instance_ptr& instance, const std::string& name) {
        return open_durable(self, instance, name);
      },
      [=](catchup_atom, std::shared_ptr<detail::catchup_job>& job) { return catch_up(self, std::move(job)); },
      [=](durable_apply_atom, const instance_ptr& instance, const std::string& name,
          const std::vector<stored_event>& events, std::uint64_t after, std::uint64_t through) {
        return apply_live(self, instance, name, events, after, through);
      },
      [=](durable_query_atom, const instance_ptr& instance, const std::string& name, const detail::erased_query& q) {
        return answer(self, instance, name, q);
      },
      [=](park_atom, const std::string& name, const parked_event& e) {
        return done(self->state.store->park(name, e));
      },
      [=](parked_atom, const std::string& name) -> caf::result<std::vector<parked_event>> {
        auto all = self->state.store->parked(name);
        if (!all) return std::move(all.error());
        return std::move(*all);
      },
      [=](unpark_atom, const std::string& name, std::uint64_t position) {
        return done(self->state.store->unpark(name, position));
      },
      [=](durable_replay_atom, const instance_ptr& instance, const std::string& name, const stored_event& e) {
        return replay_parked(self, instance, name, e);
      },
      [=](durable_move_atom, const std::string& name, std::uint64_t position) {
        projection_checkpoint cp;
        cp.position = position;
        return done(self->state.store->save_checkpoint(name, cp));
      },
      [=](durable_reset_atom, const instance_ptr& instance, const std::string& name) {
        return reset(self, instance, name);
      },
      [=](store_job_atom, const instance_ptr& instance, const detail::store_job_ptr& job) {
        auto& store = *self->state.store;
        instance->attach(&store.sql());
        return done(atomically(store, *instance, [&] {
          try {  // a user's factory or handler: its exception must not end the read store
            return (*job)();
          } catch (const std::exception& ex) {
            return make_error(errc::rejected, std::string{"a process's step threw: "} + ex.what());
          } catch (...) {
            return make_error(errc::rejected, "a process's step threw");
          }
        }));
      },
  };
}

}  // namespace

caf::actor spawn_read_store_actor(caf::actor_system& sys, std::unique_ptr<read_store> store,
                                  std::unique_ptr<journal> log, std::size_t chunk,
                                  std::shared_ptr<const upcaster_chain> upcasters,
                                  std::shared_ptr<std::atomic<bool>> stopping) {
  auto store_holder = std::make_shared<std::unique_ptr<read_store>>(std::move(store));
  auto log_holder = std::make_shared<std::unique_ptr<journal>>(std::move(log));
  return sys.spawn<caf::detached>(read_store_actor, store_holder, log_holder, chunk, std::move(upcasters),
                                  std::move(stopping));
}

}  // namespace interlock
