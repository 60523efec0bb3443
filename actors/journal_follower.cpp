#include <interlock/actors/journal_follower.hpp>

#include <string>
#include <utility>

#include <interlock/core/errors.hpp>
#include <interlock/core/log.hpp>

namespace interlock::detail {

journal_follower::journal_follower(std::unique_ptr<journal_watch> watch, std::chrono::milliseconds poll,
                                   std::function<void(std::uint64_t)> report)
    : watch_(std::move(watch)), poll_(poll), report_(std::move(report)), thread_([this] { run(); }) {}

journal_follower::~journal_follower() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  watch_->interrupt();
  thread_.join();
}

bool journal_follower::pause_after_failure() {
  std::unique_lock lock{mutex_};
  return !wake_.wait_for(lock, poll_, [&] { return stopping_; });
}

void journal_follower::run() {
  std::uint64_t reported = 0;
  bool failing = false;
  auto stopping = [&] {
    std::lock_guard lock{mutex_};
    return stopping_;
  };
  while (!stopping()) {
    auto head = watch_->wait(poll_);
    if (stopping()) return;
    if (!head) {
      if (!failing) log(log_level::warning, "cannot follow the journal's other writers (trying again every " +
                                                std::to_string(poll_.count()) + " ms): " + describe(head.error()));
      failing = true;
      if (!pause_after_failure()) return;
      continue;
    }
    if (std::exchange(failing, false)) log(log_level::info, "following the journal's other writers again");
    if (*head > reported) {
      reported = *head;
      report_(reported);
    }
  }
}

}  // namespace interlock::detail
