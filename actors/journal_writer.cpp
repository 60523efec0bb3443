#include <interlock/actors/journal_writer.hpp>

#include <interlock/actors/messages.hpp>

#include <optional>
#include <thread>

namespace interlock {
namespace {

class writer_loop {
 public:
  writer_loop(caf::blocking_actor* self, std::unique_ptr<journal> j, std::size_t max_batch,
              std::chrono::microseconds wait)
      : self_(self), journal_(std::move(j)), max_batch_(std::max<std::size_t>(1, max_batch)), wait_(wait) {}

  void run() {
    while (running_) {
      spin_for_mail();
      receive_one(std::nullopt);
      drain();
      commit();
    }
    journal_.reset();  // close the database before the actor reports down
  }

 private:
  // Waking a thread blocked on its mailbox costs tens of microseconds, added
  // to every lone command's latency; mail that comes within a few
  // microseconds of the last commit is taken without sleeping.
  void spin_for_mail() {
    const auto until = std::chrono::steady_clock::now() + spin_;
    while (self_->mailbox().empty() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  }

  // Takes one message; with a `timeout`, returns false if none came in time.
  bool receive_one(std::optional<std::chrono::microseconds> timeout) {
    bool got = true;
    auto on_append = [&](append_atom, std::vector<append_request>& group) {
      replies_.push_back({self_->make_response_promise(), group.size()});
      std::move(group.begin(), group.end(), std::back_inserter(requests_));
    };
    auto on_subscribe = [&](subscribe_atom, caf::actor& subscriber) -> caf::result<std::uint64_t> {
      auto last = journal_->last_position();
      if (!last) return last.error();
      self_->monitor(subscriber);
      subscribers_.push_back(std::move(subscriber));
      return *last;
    };
    auto on_down = [&](caf::down_msg& dm) {
      std::erase_if(subscribers_, [&](const caf::actor& a) { return a.address() == dm.source; });
    };
    auto on_exit = [&](caf::exit_msg&) { running_ = false; };
    if (timeout)
      self_->receive(on_append, on_subscribe, on_down, on_exit, caf::after(*timeout) >> [&] { got = false; });
    else
      self_->receive(on_append, on_subscribe, on_down, on_exit);
    return got;
  }

  // Group commit: everything already queued joins the transaction, and what
  // arrives within `wait_` of the first append (0 by default: commit at once;
  // batches grow by themselves while a commit is in flight).
  void drain() {
    auto deadline = std::chrono::steady_clock::now() + wait_;
    while (running_ && !requests_.empty() && requests_.size() < max_batch_) {
      auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
      if (!receive_one(std::max(left, std::chrono::microseconds{0}))) break;
    }
  }

  void commit() {
    if (requests_.empty()) return;
    auto results = append_or_fail(requests_);
    publish(requests_, results);
    auto next = results.begin();
    for (auto& reply : replies_) {
      std::vector<append_outcome> outcomes(reply.requests);
      for (auto& out : outcomes) {
        if (*next) out.result = **next;
        else out.error = std::move(next->error());
        ++next;
      }
      reply.promise.deliver(std::move(outcomes));
    }
    requests_.clear();
    replies_.clear();
  }

  // Appenders wait for their reply without a timeout (a timer per append
  // costs CAF's clock thread more than the append itself), so every request
  // taken from the mailbox must be answered, even if the journal throws.
  std::vector<caf::expected<append_result>> append_or_fail(const std::vector<append_request>& requests) {
    try {
      return journal_->append(requests);
    } catch (const std::exception& e) {
      return failed_batch(requests.size(), std::string{"the journal failed the batch: "} + e.what());
    } catch (...) {
      return failed_batch(requests.size(), "the journal failed the batch with an unknown exception");
    }
  }

  static std::vector<caf::expected<append_result>> failed_batch(std::size_t n, const std::string& why) {
    return std::vector<caf::expected<append_result>>(n, caf::expected<append_result>{make_error(errc::storage, why)});
  }

  // Subscribers get the events before appenders get their replies, so a client
  // that queries after its command was acknowledged finds them queued ahead.
  void publish(const std::vector<append_request>& requests,
               const std::vector<caf::expected<append_result>>& results) {
    if (subscribers_.empty()) return;
    std::vector<stored_event> committed;
    for (std::size_t i = 0; i < requests.size(); ++i)
      if (results[i]) {
        auto events = committed_events(requests[i], *results[i]);
        std::move(events.begin(), events.end(), std::back_inserter(committed));
      }
    if (committed.empty()) return;
    std::sort(committed.begin(), committed.end(),
              [](const stored_event& a, const stored_event& b) { return a.position < b.position; });
    auto msg = caf::make_message(events_atom::value, std::move(committed));
    for (auto& s : subscribers_) self_->send(s, msg);
  }

  caf::blocking_actor* self_;
  std::unique_ptr<journal> journal_;
  std::size_t max_batch_;
  std::chrono::microseconds wait_;
  static constexpr std::chrono::microseconds spin_{50};
  bool running_ = true;
  // The batch being gathered: each reply answers the next `requests` of requests_.
  struct pending_reply {
    caf::response_promise promise;
    std::size_t requests;
  };
  std::vector<append_request> requests_;
  std::vector<pending_reply> replies_;
  std::vector<caf::actor> subscribers_;
};

}  // namespace

caf::actor spawn_journal_writer(caf::actor_system& sys, std::unique_ptr<journal> j, std::size_t max_batch,
                                std::chrono::microseconds wait) {
  auto holder = std::make_shared<std::unique_ptr<journal>>(std::move(j));
  return sys.spawn<caf::detached>([holder, max_batch, wait](caf::blocking_actor* self) {
    writer_loop loop{self, std::move(*holder), max_batch, wait};
    loop.run();
  });
}

}  // namespace interlock
