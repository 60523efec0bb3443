#include <interlock/actors/journal_writer.hpp>

#include <algorithm>
#include <iterator>

#include <interlock/actors/journal_committer.hpp>
#include <interlock/actors/journal_inbox.hpp>
#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

using detail::journal_committer;
using committed_atom = caf::atom_constant<caf::atom("committed")>;  // () the commit thread finished a batch
using flush_atom = caf::atom_constant<caf::atom("flush")>;          // () hand the gathered appends over

using clock = std::chrono::steady_clock;

// What one message to the writer asks to have answered after the requests
// before it: an aggregate's group of commands, whose `requests` are the next
// ones of the batch, or a sync (a promise, no requests).
struct pending_reply {
  detail::command_group_ptr group;
  caf::response_promise sync;
  std::size_t requests = 0;
};

struct writer_state {
  std::unique_ptr<journal_committer> committer;
  std::shared_ptr<detail::journal_inbox> inbox;
  std::vector<detail::command_group_ptr> taken;  // from the inbox, being gathered
  std::size_t max_batch = 1;
  std::chrono::microseconds wait{0};
  // The next batch, gathered while the commit thread is busy with the last:
  // each reply answers the next `requests` of `requests`.
  std::vector<append_request> requests;
  std::vector<pending_reply> replies;
  clock::time_point first_at;  // when the first of them came
  bool flush_scheduled = false;
  std::vector<pending_reply> in_flight;  // the replies of the batch being committed
  // Aggregates whose commands were handed back: their groups until they sync
  // ran on the failed events (empty almost always).
  std::vector<caf::actor_addr> broken;
  caf::strong_actor_ptr me;  // answers go out in the writer's name
  std::vector<caf::actor> subscribers;
  caf::expected<std::uint64_t> published{std::uint64_t{0}};  // the last position published
  static inline const char* name = "interlock.journal_writer";
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

// Hands the gathered appends, whole groups of up to about max_batch requests,
// to the commit thread.
void hand_over(self_ptr self) {
  auto& st = self->state;
  journal_committer::batch b;
  std::size_t groups = 0, taken = 0;
  // Replies without requests go with the batch before them, so the gathered
  // replies are empty exactly when the gathered requests are.
  while (groups < st.replies.size() && (taken < st.max_batch || st.replies[groups].requests == 0))
    taken += st.replies[groups++].requests;
  if (groups == st.replies.size()) {
    b.requests = std::move(st.requests);
    st.in_flight = std::move(st.replies);
    // The next batch is likely as large: growing to it by doubling would
    // move every request about once more.
    st.requests = {};
    st.requests.reserve(b.requests.size());
    st.replies = {};
    st.replies.reserve(st.in_flight.size());
  } else {
    auto split = st.requests.begin() + static_cast<std::ptrdiff_t>(taken);
    b.requests.assign(std::make_move_iterator(st.requests.begin()), std::make_move_iterator(split));
    st.requests.erase(st.requests.begin(), split);
    st.in_flight.assign(st.replies.begin(), st.replies.begin() + static_cast<std::ptrdiff_t>(groups));
    st.replies.erase(st.replies.begin(), st.replies.begin() + static_cast<std::ptrdiff_t>(groups));
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

// Subscribers get the events before appenders get their replies, so a client
// that queries after its command was acknowledged finds them queued ahead.
void publish(self_ptr self, journal_committer::batch& b) {
  auto& st = self->state;
  for (auto& r : b.results)
    if (r) st.published = st.published ? std::max(*st.published, r->last_position) : r->last_position;
  if (st.subscribers.empty()) return;
  auto committed = committed_events(b.requests, b.results);
  if (committed.empty()) return;
  auto msg = caf::make_message(events_atom::value, std::move(committed));
  for (auto& s : st.subscribers) self->send(s, msg);
}

using result_iterator = std::vector<caf::expected<append_result>>::iterator;

caf::response_promise promise_of(self_ptr self, const caf::response_promise& aggregates) {
  return {self->state.me, aggregates.source(), aggregates.stages(), aggregates.id()};
}

// Whether commands of `aggregate` were handed back since it last synced.
bool is_broken(const writer_state& st, const caf::actor& aggregate) {
  return std::find(st.broken.begin(), st.broken.end(), aggregate.address()) != st.broken.end();
}

// Hands the commands of `g` from `first` on back to their aggregate (`err`:
// the first one's append failed with it). If the aggregate has stopped, the
// message is dropped and the group answers them (command_group.hpp).
void hand_back(self_ptr self, detail::command_group_ptr g, std::size_t first, caf::error err) {
  auto& st = self->state;
  if (!is_broken(st, g->aggregate)) st.broken.push_back(g->aggregate.address());
  auto to = g->aggregate;
  self->send(to, rerun_atom::value, std::move(g), first, std::move(err));
}

// Answers the commands of `g` in order, `results` holding its requests'
// outcomes, up to the first whose append failed: that one and those after it
// go back to the aggregate.
void answer_group(self_ptr self, const detail::command_group_ptr& g, result_iterator results) {
  auto& st = self->state;
  if (is_broken(st, g->aggregate)) return hand_back(self, g, 0, caf::error{});
  for (std::size_t i = 0; i < g->entries.size(); ++i) {
    auto& e = g->entries[i];
    if (e.request != detail::no_request) {
      auto& r = results[static_cast<std::ptrdiff_t>(e.request)];
      if (!r) return hand_back(self, g, i, r.error());
      e.reply.position = r->last_position;
      e.reply.version = r->last_version;
    }
    auto rp = promise_of(self, e.q.rp);
    e.q.rp = {};
    detail::deliver(rp, e);
  }
}

// A sync is answered once the groups before it are: its aggregate's later
// groups rest on nothing handed back.
void answer_sync(self_ptr self, caf::response_promise& rp) {
  std::erase(self->state.broken, caf::actor_cast<caf::actor_addr>(rp.source()));
  rp.deliver(caf::unit);
}

void answer(self_ptr self, journal_committer::batch& b, std::vector<pending_reply>& replies) {
  auto next = b.results.begin();
  for (auto& reply : replies) {
    if (reply.group) answer_group(self, reply.group, next);
    else answer_sync(self, reply.sync);
    next += static_cast<std::ptrdiff_t>(reply.requests);
  }
}

// A group without requests, or a sync: it is answered after what came
// before it, at once if nothing did.
void take_unbacked(self_ptr self, pending_reply r) {
  auto& st = self->state;
  if (!st.replies.empty()) return st.replies.push_back(std::move(r));
  if (st.committer->busy()) return st.in_flight.push_back(std::move(r));
  if (r.group) answer_group(self, r.group, result_iterator{});
  else answer_sync(self, r.sync);
}

// Publishes and answers a committed batch; `replies` are its appenders'.
void finish(self_ptr self, journal_committer::batch b, std::vector<pending_reply> replies) {
  publish(self, b);
  answer(self, b, replies);
}

// Takes an aggregate's group: its requests join the next batch.
void take_group(self_ptr self, detail::command_group_ptr g) {
  auto& st = self->state;
  const auto n = g->requests.size();
  if (n == 0) return take_unbacked(self, {std::move(g), {}, 0});
  if (st.requests.empty()) st.first_at = clock::now();
  std::move(g->requests.begin(), g->requests.end(), std::back_inserter(st.requests));
  st.replies.push_back({std::move(g), {}, n});
}

// Takes the groups left in the inbox, in the order they came.
void take_inbox(self_ptr self) {
  auto& st = self->state;
  st.inbox->take(st.taken);
  for (auto& g : st.taken) take_group(self, std::move(g));
  st.taken.clear();
}

// Ends each turn of the writer: what the inbox holds is taken, and a batch
// goes if the commit thread is idle, until the writer is sure to look again
// (journal_inbox::rest) or nothing waits.
void settle(self_ptr self) {
  auto& st = self->state;
  // A flush at once is as good as a look; one `wait` away it is not: a group
  // that fills the batch meanwhile must tell the writer, as an append did.
  auto looks_again = [&] { return st.committer->busy() || (st.flush_scheduled && st.wait.count() == 0); };
  while (!st.inbox->rest(looks_again())) {
    take_inbox(self);
    if (!st.committer->busy() && !st.requests.empty()) gathered(self);
  }
}

// Told to exit: the batch in flight and the appends gathered are committed and
// answered (the appenders wait without a timeout), then the journal closes
// before the actor reports down. Groups left after this are refused.
void on_exit(self_ptr self, caf::exit_msg& msg) {
  auto& st = self->state;
  for (auto& g : st.inbox->close()) take_group(self, std::move(g));
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
  // groups are refused, and those left are dropped: they answer their commands.
  self->attach_functor([inbox = st.inbox] { inbox->close(); });
  st.max_batch = std::max<std::size_t>(1, max_batch);
  st.wait = wait;
  st.published = (*holder)->last_position();
  st.me = caf::actor_cast<caf::strong_actor_ptr>(self);
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
      [=](sync_atom) -> caf::result<void> {
        take_inbox(self);  // the groups its aggregate left before go first
        auto rp = self->make_response_promise();
        take_unbacked(self, {nullptr, rp, 0});
        settle(self);
        return rp;
      },
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
        // in flight, a group without requests is answered after it.
        take_inbox(self);
        auto b = st.committer->take();
        auto replies = std::move(st.in_flight);
        // The next batch goes before this one is answered: the commit thread
        // works while this actor delivers.
        if (!st.requests.empty()) {
          if (clock::now() >= st.first_at + st.wait) hand_over(self);
          else gathered(self);
        }
        finish(self, std::move(b), std::move(replies));
        settle(self);
      },
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
