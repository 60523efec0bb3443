// The journal writer's commit thread. Internal to actors/journal_writer.cpp.
//
// It owns the journal and commits one batch at a time, so SQLite's work and
// its fsync never hold one of CAF's scheduler threads, while the writer actor
// (on the scheduler) gathers the next batch and answers the last one. The two
// meet once per batch, not once per append: the actor hands over a batch with
// commit(), the thread calls `on_committed` when it is done, and the actor
// takes the batch back, results included, with take().
//
// Contract: commit() only while idle (busy() false); take() only after
// `on_committed` was called for that batch, and it makes the committer idle
// again. `on_committed` runs on the commit thread and must not block. The
// journal is touched only by the commit thread once it has started. The
// destructor waits for the batch in flight (its results are then lost: call
// wait() first to keep them) and closes the journal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/expected.hpp>

#include <interlock/persistence/journal.hpp>

namespace interlock::detail {

class journal_committer {
 public:
  struct batch {
    std::vector<append_request> requests;
    std::vector<caf::expected<append_result>> results;  // filled by the commit thread: one per request, in order
  };

  journal_committer(std::unique_ptr<journal> j, std::function<void()> on_committed);
  journal_committer(const journal_committer&) = delete;
  journal_committer& operator=(const journal_committer&) = delete;
  ~journal_committer();

  bool busy() const { return busy_; }
  // Whether the caller is the commit thread (on_committed runs there).
  bool on_commit_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  void commit(batch b);
  batch take();
  // Blocks until the batch in flight is committed, then takes it (shutdown).
  batch wait();

 private:
  void run();
  void commit_now(batch& b);
  void maintain();
  bool next_batch(std::unique_lock<std::mutex>& lock);

  std::unique_ptr<journal> journal_;
  std::function<void()> on_committed_;
  bool busy_ = false;  // the actor's view: a batch is handed over and not yet taken back
  std::mutex mutex_;
  std::condition_variable changed_;
  batch slot_;
  std::atomic<bool> to_commit_{false};  // slot_ holds a batch to commit
  bool done_ = false;       // slot_ holds a committed batch
  bool sleeping_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace interlock::detail
