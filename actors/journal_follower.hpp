// Follows a journal that other processes append to: a thread of its own (never
// one of CAF's scheduler threads) waits on a journal_watch
// (persistence/journal_watch.hpp) and reports each new last position it sees
// with `report`. The application reports to its journal writer, which tells
// its projections when the position is beyond what it published itself; they
// then catch up from the journal (actors/projection_actor.cpp).
//
// Reports only ever rise. A watch that fails (the server went away) is logged
// once and tried again every `poll` until it answers. The destructor
// interrupts the wait and joins the thread: it returns within about one
// round trip of the watch's connection, never waiting for `poll`.
// Internal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <interlock/persistence/journal_watch.hpp>

namespace interlock::detail {

class journal_follower {
 public:
  journal_follower(std::unique_ptr<journal_watch> watch, std::chrono::milliseconds poll,
                   std::function<void(std::uint64_t)> report);
  ~journal_follower();
  journal_follower(const journal_follower&) = delete;
  journal_follower& operator=(const journal_follower&) = delete;

 private:
  void run();
  bool pause_after_failure();  // false once stopping

  std::unique_ptr<journal_watch> watch_;
  const std::chrono::milliseconds poll_;
  std::function<void(std::uint64_t)> report_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under mutex_
  std::thread thread_;     // last: starts once the rest is set
};

}  // namespace interlock::detail
