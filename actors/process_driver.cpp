#include <interlock/actors/process_driver.hpp>

#include <deque>
#include <map>
#include <unordered_map>

#include <interlock/actors/messages.hpp>
#include <interlock/core/log.hpp>

namespace interlock {
namespace {

using detail::outbox_row;

struct failed_job {
  detail::store_job_ptr job;
  std::function<void()> done;
};

struct driver_state {
  process_driver_config cfg;
  std::map<std::int64_t, outbox_row> rows;  // by outbox id: known and not yet done with
  std::deque<std::int64_t> ready;           // to send, in the order decided
  std::size_t in_flight = 0;
  std::unordered_map<std::int64_t, std::uint32_t> attempts;  // failed sends of a row
  std::unordered_map<std::string, std::int64_t> deadlines;   // by conversation: due, µs since the epoch
  // What holds a due deadline back: a command of its conversation on its way
  // (sent, no answer yet), or answered commands' events the process has not
  // applied (the highest last position of any answer), or a row it has not
  // heard of (checked in the deadline's own transaction, above seen_id).
  std::unordered_map<std::string, std::size_t> on_its_way;
  std::uint64_t answered_through = 0;
  std::int64_t seen_id = 0;  // the highest outbox id heard of
  std::vector<failed_job> failed_jobs;
  bool retry_scheduled = false;
  // Answered rows leave the outbox in one transaction per batch: one delete
  // job at a time, the rows answered meanwhile in the next (a transaction per
  // answer took more of the read store's thread than the saga's steps).
  std::vector<std::int64_t> done;
  bool deleting = false;
  static inline const char* name = "interlock.process_driver";
};

using self_ptr = caf::stateful_actor<driver_state>*;

// Failures that another try may cure; anything else is the command's answer.
bool worth_retrying(const caf::error& err) {
  auto code = code_of(err);
  return !code || *code == errc::timeout || *code == errc::unavailable || *code == errc::storage ||
         *code == errc::conflict;
}

std::int64_t wall_clock_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

void run_job(self_ptr self, detail::store_job_ptr job, std::function<void()> done) {
  auto& st = self->state;
  self->request(st.cfg.store, st.cfg.journal_timeout, store_job_atom::value,
                detail::instance_ptr{st.cfg.instance}, job)
      .then([done] { done(); },
            [=](caf::error& err) {
              auto& st = self->state;
              log(log_level::warning, "process " + st.cfg.name + ": a step failed (" + describe(err) +
                                          "); it is tried again in 1 s");
              st.failed_jobs.push_back({job, done});
              if (std::exchange(st.retry_scheduled, true)) return;
              self->delayed_send(self, std::chrono::seconds(1), retry_jobs_atom::value);
            });
}

template <class F>
detail::store_job_ptr job_of(F f) {
  return std::make_shared<const detail::store_job>(std::move(f));
}

void send_one(self_ptr self, std::int64_t id) {
  auto& st = self->state;
  auto it = st.rows.find(id);
  if (it == st.rows.end()) return;
  ++st.in_flight;
  ++st.on_its_way[it->second.key];
  auto me = caf::actor_cast<caf::actor>(self);
  auto body = st.cfg.instance->decode_command(it->second);
  if (!body) return caf::anon_send(me, answered_atom::value, id, std::uint64_t{0}, std::move(body.error()));
  st.cfg.send(it->second, std::move(body->first), *body->second, [me, id](caf::expected<std::uint64_t> outcome) {
    if (outcome) caf::anon_send(me, answered_atom::value, id, *outcome, caf::error{});
    else caf::anon_send(me, answered_atom::value, id, std::uint64_t{0}, std::move(outcome.error()));
  });
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.cfg.max_in_flight && !st.ready.empty()) {
    auto id = st.ready.front();
    st.ready.pop_front();
    send_one(self, id);
  }
}

void forget(self_ptr self, std::int64_t id) {
  self->state.rows.erase(id);
  self->state.attempts.erase(id);
}

void delete_done(self_ptr self) {
  auto& st = self->state;
  if (st.deleting || st.done.empty()) return;
  st.deleting = true;
  auto ids = std::exchange(st.done, {});
  auto instance = st.cfg.instance;
  run_job(self, job_of([instance, ids] { return instance->commands_done(ids); }), [=] {
    for (auto id : ids) forget(self, id);
    self->state.deleting = false;
    delete_done(self);
  });
}

void answered(self_ptr self, std::int64_t id, std::uint64_t position, caf::error err) {
  auto& st = self->state;
  --st.in_flight;
  auto it = st.rows.find(id);
  if (it != st.rows.end()) {
    auto row = it->second;
    auto instance = st.cfg.instance;
    if (auto way = st.on_its_way.find(row.key); way != st.on_its_way.end() && --way->second == 0)
      st.on_its_way.erase(way);
    if (!err) {
      st.answered_through = std::max(st.answered_through, position);
      st.done.push_back(id);
      delete_done(self);
    } else if (worth_retrying(err)) {
      const auto n = ++st.attempts[id];
      const auto backoff = std::chrono::milliseconds{100} * (1 << std::min<std::uint32_t>(n - 1, 7));
      log(n == 1 ? log_level::info : log_level::warning,
          "process " + st.cfg.name + ": command " + row.command_type + " (" + row.command_id + ") to " +
              row.aggregate_id + " failed (" + describe(err) + "), attempt " + std::to_string(n) + "; sent again in " +
              std::to_string(std::min<std::int64_t>(backoff.count(), 10'000)) + " ms");
      self->delayed_send(self, std::min(backoff, std::chrono::milliseconds{10'000}), resend_atom::value, id);
    } else {
      run_job(self, job_of([instance, row, reason = describe(err)] { return instance->command_refused(row, reason); }),
              [=] { forget(self, id); });
    }
  }
  pump(self);
}

void schedule_deadline(self_ptr self, const std::string& key, std::int64_t due_us) {
  const auto wait = std::max<std::int64_t>(0, due_us - wall_clock_us());
  self->delayed_send(self, std::chrono::microseconds{wait}, deadline_atom::value, key, due_us);
}

void take_news(self_ptr self, const detail::process_news& news) {
  auto& st = self->state;
  for (auto& row : news.commands) {
    st.seen_id = std::max(st.seen_id, row.id);
    if (st.rows.emplace(row.id, row).second) st.ready.push_back(row.id);
  }
  for (auto& d : news.deadlines) {
    if (d.due_us == 0) {
      st.deadlines.erase(d.key);
      continue;
    }
    st.deadlines[d.key] = d.due_us;
    schedule_deadline(self, d.key, d.due_us);
  }
  pump(self);
}

// Whether the saga may yet see something that changes its mind: a catch-up
// may apply the event that cancels the deadline, a command of the
// conversation on its way may be answered, and an answer's events may not be
// applied yet. A command waiting to be sent again does not hold it back: a
// deadline is also for a target that does not answer.
bool outcome_unseen(self_ptr self, const std::string& key) {
  auto& st = self->state;
  if (st.on_its_way.count(key)) return true;
  if (!st.cfg.progress) return false;
  return st.cfg.progress->state.load() != detail::projection_progress::phase::live ||
         st.cfg.progress->position.load() < st.answered_through;
}

void deadline_came(self_ptr self, const std::string& key, std::int64_t due_us) {
  auto& st = self->state;
  auto it = st.deadlines.find(key);
  if (it == st.deadlines.end() || it->second != due_us) return;  // cancelled or moved
  if (outcome_unseen(self, key)) {
    self->delayed_send(self, std::chrono::milliseconds(100), deadline_atom::value, key, due_us);
    return;
  }
  auto instance = st.cfg.instance;
  auto held_back = std::make_shared<bool>(false);  // written by the job, read after its reply
  run_job(self, job_of([instance, key, due_us, seen = st.seen_id, held_back] {
            return instance->deadline_due(key, due_us, seen, *held_back);
          }),
          [=] {
            if (*held_back) return self->delayed_send(self, std::chrono::milliseconds(100), deadline_atom::value, key, due_us);
            auto& deadlines = self->state.deadlines;
            if (auto it = deadlines.find(key); it != deadlines.end() && it->second == due_us) deadlines.erase(it);
          });
}

caf::behavior process_driver(self_ptr self, process_driver_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
      [=](load_outbox_atom) {
        auto instance = self->state.cfg.instance;
        run_job(self, job_of([instance] { return instance->publish_pending(); }), [] {});
      },
      [=](const detail::process_news_ptr& news) { take_news(self, *news); },
      [=](answered_atom, std::int64_t id, std::uint64_t position, caf::error& err) {
        answered(self, id, position, std::move(err));
      },
      [=](resend_atom, std::int64_t id) {
        if (!self->state.rows.count(id)) return;
        self->state.ready.push_back(id);
        pump(self);
      },
      [=](deadline_atom, const std::string& key, std::int64_t due_us) { deadline_came(self, key, due_us); },
      [=](retry_jobs_atom) {
        auto& st = self->state;
        st.retry_scheduled = false;
        for (auto& f : std::exchange(st.failed_jobs, {})) run_job(self, f.job, f.done);
      },
  };
}

}  // namespace

caf::actor spawn_process_driver(caf::actor_system& sys, process_driver_config config) {
  return sys.spawn(process_driver, std::move(config));
}

}  // namespace interlock
