#include <interlock/actors/apply_pipeline.hpp>

#include <pthread.h>

namespace interlock::detail {

apply_pipeline::~apply_pipeline() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void apply_pipeline::submit(std::function<void()> task) {
  std::unique_lock<std::mutex> lock{mutex_};
  if (!thread_.joinable()) thread_ = std::thread{[this] { run(); }};
  changed_.wait(lock, [&] { return tasks_.size() < depth_; });
  tasks_.push_back(std::move(task));
  lock.unlock();
  changed_.notify_all();
}

void apply_pipeline::drain() {
  std::unique_lock<std::mutex> lock{mutex_};
  changed_.wait(lock, [&] { return tasks_.empty(); });
}

// The task stays at the front while it runs, so drain() waits for it too.
void apply_pipeline::run() {
  ::pthread_setname_np(::pthread_self(), "journal.apply");  // for top -H, perf and gdb (15 chars at most)
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, nothing left
    auto& task = tasks_.front();
    lock.unlock();
    task();
    lock.lock();
    tasks_.pop_front();
    changed_.notify_all();
  }
}

}  // namespace interlock::detail
