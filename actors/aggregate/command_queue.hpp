// The commands waiting at one aggregate actor, oldest first, with the promises
// their callers wait on. Internal to actors/aggregate/.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <vector>

#include <interlock/actors/aggregate/queued_command.hpp>

namespace interlock::detail {

// The commands waiting at one actor, oldest first: a vector and the index of
// its front. No allocation while empty (a std::deque allocates ~600 bytes on
// construction, for each of possibly a million live aggregates).
class command_queue {
 public:
  bool empty() const { return head_ == items_.size(); }
  queued_command& front() { return items_[head_]; }
  void push_back(queued_command q) { items_.push_back(std::move(q)); }
  queued_command pop_front() {
    auto q = std::move(items_[head_++]);
    if (empty()) clear();
    else if (head_ > 64 && head_ * 2 > items_.size()) compact();
    return q;
  }
  // Puts `qs` back in front, in their order (commands to run again).
  void push_front(std::vector<queued_command>& qs) {
    items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(head_), std::make_move_iterator(qs.begin()),
                  std::make_move_iterator(qs.end()));
  }
  void push_front(queued_command q) {
    if (head_ > 0) items_[--head_] = std::move(q);
    else items_.insert(items_.begin(), std::move(q));
  }
  template <class F>
  void drain(F f) {
    for (auto i = head_; i < items_.size(); ++i) f(items_[i]);
    clear();
  }

 private:
  void clear() {
    items_.clear();
    head_ = 0;
  }
  void compact() {
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  std::vector<queued_command> items_;
  std::size_t head_ = 0;
};

}  // namespace interlock::detail
