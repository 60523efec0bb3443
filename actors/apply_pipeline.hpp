// A second thread for the journal reader: it applies one chunk of a long
// recovery or catch-up while the reader reads the next, so decoding and
// applying events (a quarter to a third of a replay's time) run beside
// SQLite's reads on another core. Internal to actors/journal_reader.cpp.
//
// Contract: tasks run one at a time, in the order submitted. submit() waits
// while `depth` (at least 1) tasks are queued or running, so at most depth + 1
// chunks are held in memory (the one being filled and those in the pipeline).
// drain() returns once every task submitted so far has run, the caller's
// job's or not (a job finishing behind a long one waits for up to `depth` of
// that one's chunks); its return orders their effects before the caller's
// next reads. A task must not throw (an escaping exception would end the
// process); the thread starts at the first submit().
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace interlock::detail {

class apply_pipeline {
 public:
  explicit apply_pipeline(std::size_t depth = 2) : depth_(depth < 1 ? 1 : depth) {}
  apply_pipeline(const apply_pipeline&) = delete;
  apply_pipeline& operator=(const apply_pipeline&) = delete;
  ~apply_pipeline();

  void submit(std::function<void()> task);
  void drain();

 private:
  void run();

  const std::size_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> tasks_;  // pending, oldest first; front() runs
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace interlock::detail
