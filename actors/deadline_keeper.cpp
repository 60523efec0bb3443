#include <interlock/actors/deadline_keeper.hpp>

#include <caf/abstract_actor.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

#include <interlock/core/errors.hpp>

namespace interlock::detail {

deadline_keeper::deadline_keeper(std::chrono::milliseconds tick) : tick_(tick), thread_([this] { run(); }) {}

deadline_keeper::~deadline_keeper() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  // The application has stopped: a command still unanswered never will be
  // (its aggregate is gone), and its caller must not wait for the deadline
  // of a keeper that no longer runs.
  take_incoming();
  for (auto& e : pending_)
    answer(e, make_error(errc::unavailable, e.watch->what +
                                                ": the application stopped before the reply arrived; the command "
                                                "may or may not have been committed"));
}

void deadline_keeper::take_incoming() {
  pending_.insert(pending_.end(), std::make_move_iterator(incoming_.begin()), std::make_move_iterator(incoming_.end()));
  incoming_.clear();
}

void deadline_keeper::answer(entry& e, caf::error err) {
  if (e.watch->answered.exchange(true)) return;  // the reply won the race
  e.requester->enqueue(nullptr, e.id, caf::make_message(std::move(err)), nullptr);
}

void deadline_keeper::watch(std::shared_ptr<reply_watch> w, caf::strong_actor_ptr requester, caf::message_id id) {
  const auto deadline = std::chrono::steady_clock::now() + w->timeout + w->grace;
  bool wake = false;
  {
    std::lock_guard lock{mutex_};
    incoming_.push_back({std::move(requester), id, deadline, std::move(w)});
    wake = std::exchange(sleeping_, false);
  }
  if (wake) wake_.notify_one();  // only the first request after an idle spell pays for a wake-up
}

void deadline_keeper::run() {
  std::unique_lock lock{mutex_};
  while (!stopping_) {
    take_incoming();
    lock.unlock();
    expire_overdue();
    lock.lock();
    if (pending_.empty() && incoming_.empty()) {
      sleeping_ = true;
      wake_.wait(lock, [&] { return stopping_ || !sleeping_; });
    } else {
      wake_.wait_for(lock, tick_, [&] { return stopping_; });
    }
  }
}

void deadline_keeper::expire_overdue() {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(pending_, [&](entry& e) {
    if (e.watch->answered.load(std::memory_order_acquire)) return true;
    if (e.deadline > now) return false;
    answer(e, explain_transport_error(caf::make_error(caf::sec::request_timeout), e.watch->what, e.watch->timeout,
                                      true));
    return true;
  });
}

}  // namespace interlock::detail
