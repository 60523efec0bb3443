#include <interlock/actors/journal_writer.hpp>

#include <algorithm>
#include <iterator>
#include <thread>

#include <interlock/actors/journal_committer.hpp>
#include <interlock/actors/journal_inbox.hpp>
#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

using detail::journal_committer;
using committed_atom = caf::atom_constant<caf::atom("committed")>;  // () the commit thread finished a batch
using flush_atom = caf::atom_constant<caf::atom("flush")>;          // () hand the gathered appends over

using clock = std::chrono::steady_clock;

// A job taken, and how many of the gathered requests are its own.
struct pending_job {
  detail::append_job_ptr job;
  std::size_t requests = 0;
};

struct writer_state {
  std::unique_ptr<journal_committer> committer;
  std::shared_ptr<detail::journal_inbox> inbox;
  std::vector<detail::append_job_ptr> taken;  // from the inbox, being gathered
  std::size_t max_batch = 1;
  std::chrono::microseconds wait{0};
  // The next batch, gathered while the commit thread is busy with the last:
  // each job's requests are the next ones of `requests`.
  std::vector<append_request> requests;
  std::vector<pending_job> jobs;
  clock::time_point first_at;  // when the first of them came
  bool flush_scheduled = false;
  std::vector<pending_job> in_flight;  // the jobs of the batch being committed
  std::vector<caf::actor> subscribers;
  caf::expected<std::uint64_t> published{std::uint64_t{0}};  // the last position published
  std::uint64_t followed = 0;  // a head other processes moved to, seen while a batch was in flight
  static inline const char* name = "interlock.journal_writer";
  // A writer never told to exit ends when its last reference goes, and that
  // may be on_committed's, on the commit thread, which cannot join itself:
  // another thread then closes the committer once the callback is over.
  writer_state() = default;
  writer_state(const writer_state&) = delete;
  writer_state& operator=(const writer_state&) = delete;
  ~writer_state() {
    if (committer && committer->on_commit_thread()) std::thread([c = std::move(committer)] {}).detach();
  }
};

using self_ptr = caf::stateful_actor<writer_state>*;

// The flush message goes behind the appends already queued, so they join the
// batch; with a group-commit wait, it comes that long after the first append.
void schedule_flush(self_ptr self) {
  auto& st = self->state;
  if (st.flush_scheduled) return;
  st.flush_scheduled = true;
  const auto due = st.first_at + st.wait;
  const auto now = clock::now();
  if (due <= now) self->send(self, flush_atom::value);
  else self->delayed_send(self, due - now, flush_atom::value);
}

// Hands the gathered appends, whole jobs of up to about max_batch requests,
// to the commit thread.
void hand_over(self_ptr self) {
  auto& st = self->state;
  journal_committer::batch b;
  std::size_t jobs = 0, taken = 0;
  // Jobs without requests go with the batch before them, so the gathered
  // jobs are empty exactly when the gathered requests are.
  while (jobs < st.jobs.size() && (taken < st.max_batch || st.jobs[jobs].requests == 0))
    taken += st.jobs[jobs++].requests;
  if (jobs == st.jobs.size()) {
    b.requests = std::move(st.requests);
    st.in_flight = std::move(st.jobs);
    // The next batch is likely as large: growing to it by doubling would
    // move every request about once more.
    st.requests = {};
    st.requests.reserve(b.requests.size());
    st.jobs = {};
    st.jobs.reserve(st.in_flight.size());
  } else {
    auto split = st.requests.begin() + static_cast<std::ptrdiff_t>(taken);
    b.requests.assign(std::make_move_iterator(st.requests.begin()), std::make_move_iterator(split));
    st.requests.erase(st.requests.begin(), split);
    st.in_flight.assign(st.jobs.begin(), st.jobs.begin() + static_cast<std::ptrdiff_t>(jobs));
    st.jobs.erase(st.jobs.begin(), st.jobs.begin() + static_cast<std::ptrdiff_t>(jobs));
    st.first_at = clock::now();
  }
  st.committer->commit(std::move(b));
}

// With the commit thread idle: a full batch goes at once, a smaller one at
// the flush.
void gathered(self_ptr self) {
  if (self->state.requests.size() >= self->state.max_batch) hand_over(self);
  else schedule_flush(self);
}

// Subscribers get the events before the jobs complete, so a client that
// queries after its command was acknowledged finds them queued ahead.
void publish(self_ptr self, journal_committer::batch& b) {
  auto& st = self->state;
  for (auto& r : b.results)  // a recorded command without events (position 0) publishes nothing
    if (r && r->last_position != 0)
      st.published = st.published ? std::max(*st.published, r->last_position) : r->last_position;
  if (st.subscribers.empty()) return;
  auto committed = committed_events(b.requests, b.results);
  if (committed.empty()) return;
  auto msg = caf::make_message(events_atom::value, std::move(committed));
  for (auto& s : st.subscribers) self->send(s, msg);
}

// Completes the batch's jobs in the order they were taken, each with the
// outcomes of its own requests.
void complete(self_ptr self, journal_committer::batch& b, std::vector<pending_job>& jobs) {
  auto next = b.results.begin();
  for (auto& p : jobs) {
    p.job->completed(std::span{next, p.requests}, self);
    next += static_cast<std::ptrdiff_t>(p.requests);
  }
}

// A job without requests completes after what came before it, at once if
// nothing did.
void take_unbacked(self_ptr self, pending_job p) {
  auto& st = self->state;
  if (!st.jobs.empty()) return st.jobs.push_back(std::move(p));
  if (st.committer->busy()) return st.in_flight.push_back(std::move(p));
  p.job->completed({}, self);
}

// The journal's head moved to `head` (actors/journal_follower.hpp). Beyond
// what this writer published, another process appended: the subscribers read
// the journal. Not beyond, the events up to it are either this writer's own
// or older than some of its own, which the subscribers find as a gap. While a
// batch is in flight the head may be that batch's, not yet published: it is
// looked at once the batch is.
void tell_if_beyond(self_ptr self, std::uint64_t head) {
  auto& st = self->state;
  if (st.published && head <= *st.published) return;
  auto msg = caf::make_message(head_atom::value, head);
  for (auto& s : st.subscribers) self->send(s, msg);
}

void followed(self_ptr self, std::uint64_t head) {
  auto& st = self->state;
  if (st.committer->busy()) st.followed = std::max(st.followed, head);
  else tell_if_beyond(self, head);
}

// Publishes and completes a committed batch; `jobs` are its jobs.
void finish(self_ptr self, journal_committer::batch b, std::vector<pending_job> jobs) {
  publish(self, b);
  complete(self, b, jobs);
}

// Takes a job: its requests join the next batch.
void take_job(self_ptr self, detail::append_job_ptr job) {
  auto& st = self->state;
  const auto n = job->requests.size();
  if (n == 0) return take_unbacked(self, {std::move(job), 0});
  if (st.requests.empty()) st.first_at = clock::now();
  std::move(job->requests.begin(), job->requests.end(), std::back_inserter(st.requests));
  st.jobs.push_back({std::move(job), n});
}

// Takes the jobs left in the inbox, in the order they came.
void take_inbox(self_ptr self) {
  auto& st = self->state;
  st.inbox->take(st.taken);
  for (auto& job : st.taken) take_job(self, std::move(job));
  st.taken.clear();
}

// Ends each turn of the writer: what the inbox holds is taken, and a batch
// goes if the commit thread is idle, until the writer is sure to look again
// (journal_inbox::rest) or nothing waits.
void settle(self_ptr self) {
  auto& st = self->state;
  // A flush at once is as good as a look; one `wait` away it is not: a job
  // that fills the batch meanwhile must tell the writer, as an append did.
  auto looks_again = [&] { return st.committer->busy() || (st.flush_scheduled && st.wait.count() == 0); };
  while (!st.inbox->rest(looks_again())) {
    take_inbox(self);
    if (!st.committer->busy() && !st.requests.empty()) gathered(self);
  }
}

// Told to exit: the batch in flight and the appends gathered are committed and
// their jobs completed (the appenders wait without a timeout), then the
// journal closes before the actor reports down. Jobs left after this are
// refused.
void on_exit(self_ptr self, caf::exit_msg& msg) {
  auto& st = self->state;
  for (auto& job : st.inbox->close()) take_job(self, std::move(job));
  if (st.committer->busy()) finish(self, st.committer->wait(), std::move(st.in_flight));
  while (!st.requests.empty()) {
    hand_over(self);
    finish(self, st.committer->wait(), std::move(st.in_flight));
  }
  st.committer.reset();
  self->quit(msg.reason);
}

caf::behavior journal_writer(self_ptr self, std::shared_ptr<std::unique_ptr<journal>> holder,
                             std::shared_ptr<detail::journal_inbox> inbox, std::size_t max_batch,
                             std::chrono::microseconds wait) {
  auto& st = self->state;
  st.inbox = std::move(inbox);
  // However the writer ends (killed outright, its exit handler skipped), later
  // jobs are refused, and those left are dropped (append_job.hpp).
  self->attach_functor([inbox = st.inbox] { inbox->close(); });
  st.max_batch = std::max<std::size_t>(1, max_batch);
  st.wait = wait;
  st.published = (*holder)->last_position();
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  st.committer = std::make_unique<journal_committer>(std::move(*holder), [weak] {
    if (auto strong = weak.lock()) caf::anon_send(caf::actor_cast<caf::actor>(strong), committed_atom::value);
  });
  self->set_exit_handler([=](caf::exit_msg& msg) { on_exit(self, msg); });
  self->set_down_handler([=](caf::down_msg& dm) {
    std::erase_if(self->state.subscribers, [&](const caf::actor& a) { return a.address() == dm.source; });
  });
  return {
      [=](drain_atom) { settle(self); },
      [=](flush_atom) {
        auto& st = self->state;
        st.flush_scheduled = false;
        take_inbox(self);
        if (!st.committer->busy() && !st.requests.empty()) hand_over(self);
        settle(self);
      },
      [=](committed_atom) {
        auto& st = self->state;
        if (!st.committer->busy()) return;  // taken at exit already
        // What came meanwhile joins the next batch; taken while the batch is
        // in flight, a job without requests completes after it.
        take_inbox(self);
        auto b = st.committer->take();
        auto jobs = std::move(st.in_flight);
        // The next batch goes before this one is completed: the commit thread
        // works while this actor delivers.
        if (!st.requests.empty()) {
          if (clock::now() >= st.first_at + st.wait) hand_over(self);
          else gathered(self);
        }
        finish(self, std::move(b), std::move(jobs));
        // A head seen while this batch was in flight: it is published now.
        // (The batch handed over above came after the head: not in it.)
        if (const auto head = std::exchange(st.followed, 0); head != 0) tell_if_beyond(self, head);
        settle(self);
      },
      [=](head_atom, std::uint64_t head) { followed(self, head); },
      [=](subscribe_atom, caf::actor& subscriber) -> caf::result<std::uint64_t> {
        auto& st = self->state;
        if (!st.published) return st.published.error();
        self->monitor(subscriber);
        st.subscribers.push_back(std::move(subscriber));
        return *st.published;
      },
  };
}

}  // namespace

caf::actor spawn_journal_writer(caf::actor_system& sys, std::unique_ptr<journal> j,
                                std::shared_ptr<detail::journal_inbox> inbox, std::size_t max_batch,
                                std::chrono::microseconds wait) {
  auto holder = std::make_shared<std::unique_ptr<journal>>(std::move(j));
  return sys.spawn(journal_writer, holder, std::move(inbox), max_batch, wait);
}

}  // namespace interlock
