// Where aggregate actors leave their append jobs (actors/append_job.hpp) for
// the journal writer, in the order they came.
//
// A CAF message per job cost a mailbox element, a message and a dispatch for
// each command. The inbox is a locked list instead: an aggregate adds its job
// and tells the writer (drain_atom) only if the writer is not due to look
// anyway. It is while a batch commits (it looks when the commit is done) or a
// flush is on its way; then the jobs pile up and it takes them at once.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include <interlock/actors/append_job.hpp>

namespace interlock::detail {

class journal_inbox {
 public:
  enum class left { queued, queued_tell_writer, closed };

  /// Adds `g`; `closed` if the writer has stopped (`g` is not taken: dropped,
  /// it gives what it owes in its destructor, as append_job.hpp says).
  left leave(append_job_ptr& g) {
    std::lock_guard lock{mutex_};
    if (closed_) return left::closed;
    jobs_.push_back(std::move(g));
    return std::exchange(told_, true) ? left::queued : left::queued_tell_writer;
  }

  /// Moves every job left since the last take into `out` (empty: the two
  /// lists trade buffers, so neither allocates again), in the order they came.
  void take(std::vector<append_job_ptr>& out) {
    std::lock_guard lock{mutex_};
    out.swap(jobs_);
  }

  /// The writer is done for now; `looks_again` if a message it waits for
  /// (its commit, its flush) makes it take the inbox anyway, so jobs left
  /// until then need not tell it. False if it must take the inbox first:
  /// jobs came since its last take, and nothing else would make it look.
  bool rest(bool looks_again) {
    std::lock_guard lock{mutex_};
    if (!looks_again && !jobs_.empty()) return false;
    told_ = looks_again;
    return true;
  }

  /// The writer is stopping: later jobs are refused. Returns the last ones.
  std::vector<append_job_ptr> close() {
    std::lock_guard lock{mutex_};
    closed_ = true;
    return std::move(jobs_);
  }

 private:
  std::mutex mutex_;
  std::vector<append_job_ptr> jobs_;
  bool told_ = false;  // the writer will look without a drain_atom
  bool closed_ = false;
};

}  // namespace interlock::detail
