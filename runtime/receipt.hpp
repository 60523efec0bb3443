#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace interlock {

/// What a committed command reports, besides its result.
struct receipt_info {
  std::string aggregate_id;
  std::uint64_t position = 0;  // global position of the last event written; 0 if none
  std::uint64_t version = 0;   // the aggregate's stream version after the command
  std::size_t events = 0;      // how many events the command wrote
};

/// The successful reply to dispatch(): the handler's result plus receipt_info.
/// Pass `position` to query options (`after`) to read your own writes.
template <class R>
struct receipt : receipt_info {
  R value{};
};

template <>
struct receipt<void> : receipt_info {};

}  // namespace interlock
