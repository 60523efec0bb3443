// The timeouts of commands and queries: the one mechanism that answers a
// caller nobody answered in time, without a CAF timer per request.
//
// CAF 0.17 arms a timer in its clock thread for every request sent with a
// timeout and cancels it when the reply comes: two cross-thread wake-ups per
// command, measured at about a quarter of a busy command path's throughput.
// A deadline_keeper instead looks at the commands in flight every `tick` on
// its own thread and answers an overdue one with a timeout error sent as the
// reply to its request. The caller's response handler sees it exactly like
// CAF's own request timeout, and a real reply that comes later is dropped by
// CAF like any reply after a timeout. Timeouts fire up to one tick late. When
// the keeper is destroyed (its application stops), every request still
// unanswered gets errc::unavailable at once.
//
// Internal (includes CAF).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/error.hpp>
#include <caf/message_id.hpp>

#include <interlock/actors/reply_watch.hpp>

namespace interlock::detail {

class deadline_keeper {
 public:
  explicit deadline_keeper(std::chrono::milliseconds tick = std::chrono::milliseconds{10});
  ~deadline_keeper();
  deadline_keeper(const deadline_keeper&) = delete;
  deadline_keeper& operator=(const deadline_keeper&) = delete;

  /// Watches the reply `id` (response_handle::id(), already a response id) to
  /// `requester`: unless `w` is marked answered within `w->timeout`, the
  /// requester gets errc::timeout (explained with `w->what`) as that reply.
  void watch(std::shared_ptr<reply_watch> w, caf::strong_actor_ptr requester, caf::message_id id);

 private:
  struct entry {
    caf::strong_actor_ptr requester;
    caf::message_id id;
    std::chrono::steady_clock::time_point deadline;
    std::shared_ptr<reply_watch> watch;
  };

  void run();
  void take_incoming();  // under mutex_, or once the thread has stopped
  void expire_overdue();
  void answer(entry& e, caf::error err);  // unless the reply came first

  const std::chrono::milliseconds tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<entry> incoming_;  // guarded by mutex_
  bool sleeping_ = false;        // guarded: the keeper waits for work, not for a tick
  bool stopping_ = false;        // guarded
  std::vector<entry> pending_;   // the keeper thread's own
  std::thread thread_;
};

}  // namespace interlock::detail
