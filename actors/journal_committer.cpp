#include <interlock/actors/journal_committer.hpp>

#include <chrono>
#include <string>

#include <pthread.h>

#include <interlock/core/errors.hpp>
#include <interlock/core/log.hpp>

namespace interlock::detail {
namespace {

// Waking a thread asleep on a condition variable costs tens of microseconds,
// added to every lone command's latency; a batch handed over within this
// long of the last commit is taken without sleeping.
constexpr std::chrono::microseconds spin_for_next{50};

std::vector<caf::expected<append_result>> failed_batch(std::size_t n, const std::string& why) {
  return std::vector<caf::expected<append_result>>(n, caf::expected<append_result>{make_error(errc::storage, why)});
}

}  // namespace

journal_committer::journal_committer(std::unique_ptr<journal> j, std::function<void()> on_committed)
    : journal_(std::move(j)), on_committed_(std::move(on_committed)), thread_([this] { run(); }) {}

journal_committer::~journal_committer() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  journal_.reset();
}

void journal_committer::commit(batch b) {
  busy_ = true;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    slot_ = std::move(b);
    to_commit_.store(true, std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) changed_.notify_all();
}

journal_committer::batch journal_committer::take() {
  std::lock_guard<std::mutex> lock{mutex_};
  done_ = false;
  busy_ = false;
  return std::move(slot_);
}

journal_committer::batch journal_committer::wait() {
  if (!busy_) return {};
  {
    std::unique_lock<std::mutex> lock{mutex_};
    changed_.wait(lock, [&] { return done_; });
  }
  return take();
}

void journal_committer::run() {
  ::pthread_setname_np(::pthread_self(), "journal.commit");  // for top -H, perf and gdb (15 chars at most)
  std::unique_lock<std::mutex> lock{mutex_};
  while (next_batch(lock)) {
    auto b = std::move(slot_);
    to_commit_.store(false, std::memory_order_relaxed);
    lock.unlock();
    commit_now(b);
    lock.lock();
    slot_ = std::move(b);
    done_ = true;
    changed_.notify_all();  // wait()
    lock.unlock();
    on_committed_();
    lock.lock();
  }
}

// A batch handed over before the committer stops is still committed.
bool journal_committer::next_batch(std::unique_lock<std::mutex>& lock) {
  const auto until = std::chrono::steady_clock::now() + spin_for_next;
  lock.unlock();
  while (!to_commit_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < until)
    std::this_thread::yield();
  lock.lock();
  if (!to_commit_.load(std::memory_order_relaxed) && !stopping_) {
    lock.unlock();
    maintain();
    lock.lock();
  }
  sleeping_ = true;
  changed_.wait(lock, [&] { return to_commit_.load(std::memory_order_relaxed) || stopping_; });
  sleeping_ = false;
  return to_commit_.load(std::memory_order_relaxed);
}

// The journal's upkeep runs when there is nothing to commit; a batch handed
// over meanwhile waits for one step of it at most. Its failure is logged, not
// fatal: the journal stays usable.
void journal_committer::maintain() {
  try {
    auto more = journal_->maintain();
    if (!more) log(log_level::error, message_of(more.error()));
  } catch (const std::exception& e) {
    log(log_level::error, std::string{"journal upkeep failed: "} + e.what());
  }
}

// Every request gets a result, even if the journal throws: the appenders wait
// without a timeout.
void journal_committer::commit_now(batch& b) {
  try {
    b.results = journal_->append(b.requests);
    if (b.results.size() != b.requests.size())
      b.results = failed_batch(b.requests.size(), "the journal answered " + std::to_string(b.results.size()) +
                                                      " of " + std::to_string(b.requests.size()) + " appends");
  } catch (const std::exception& e) {
    b.results = failed_batch(b.requests.size(), std::string{"the journal failed the batch: "} + e.what());
  } catch (...) {
    b.results = failed_batch(b.requests.size(), "the journal failed the batch with an unknown exception");
  }
}

}  // namespace interlock::detail
