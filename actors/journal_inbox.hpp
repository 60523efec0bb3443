// Where aggregate actors leave their command groups for the journal writer.
// Internal to actors/aggregate_actor.cpp and actors/journal_writer.cpp.
//
// A CAF message per group cost a mailbox element, a message and a dispatch
// for each command. The inbox is a locked list instead: an aggregate adds its
// group and tells the writer (drain_atom) only if the writer is not due to
// look anyway. It is while a batch commits (it looks when the commit is done)
// or a flush is on its way; then the groups pile up and it takes them at once.
//
// Order: the writer takes the inbox before it handles a sync, so a sync still
// comes after every group its aggregate left before sending it.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include <interlock/actors/command_group.hpp>

namespace interlock::detail {

class journal_inbox {
 public:
  enum class left { queued, queued_tell_writer, closed };

  /// Adds `g`; `closed` if the writer has stopped (`g` is not taken: dropped,
  /// it answers its commands with errc::unavailable, as command_group.hpp says).
  left leave(command_group_ptr& g) {
    std::lock_guard lock{mutex_};
    if (closed_) return left::closed;
    groups_.push_back(std::move(g));
    return std::exchange(told_, true) ? left::queued : left::queued_tell_writer;
  }

  /// Moves every group left since the last take into `out` (empty: the two
  /// lists trade buffers, so neither allocates again), in the order they came.
  void take(std::vector<command_group_ptr>& out) {
    std::lock_guard lock{mutex_};
    out.swap(groups_);
  }

  /// The writer is done for now; `looks_again` if a message it waits for
  /// (its commit, its flush) makes it take the inbox anyway, so groups left
  /// until then need not tell it. False if it must take the inbox first:
  /// groups came since its last take, and nothing else would make it look.
  bool rest(bool looks_again) {
    std::lock_guard lock{mutex_};
    if (!looks_again && !groups_.empty()) return false;
    told_ = looks_again;
    return true;
  }

  /// The writer is stopping: later groups are refused. Returns the last ones.
  std::vector<command_group_ptr> close() {
    std::lock_guard lock{mutex_};
    closed_ = true;
    return std::move(groups_);
  }

 private:
  std::mutex mutex_;
  std::vector<command_group_ptr> groups_;
  bool told_ = false;  // the writer will look without a drain_atom
  bool closed_ = false;
};

}  // namespace interlock::detail
