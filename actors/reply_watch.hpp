// One request (a command or a query) watched for its deadline
// (actors/deadline_keeper.hpp). Internal.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>

namespace interlock::detail {

/// The caller's response handlers mark it answered; the keeper does too when
/// it answers first (with the timeout), so only the first side's answer counts.
struct reply_watch {
  std::atomic<bool> answered{false};
  std::string what;  // "command X to T/id", for error messages
  std::chrono::milliseconds timeout{0};
  // The keeper answers this much after `timeout`: a query parked at its
  // projection (query_options::after) gets the projection's own, more precise,
  // timeout error first.
  std::chrono::milliseconds grace{0};
};

/// A query's grace: long enough for a parked query's own timeout to arrive
/// first, at least 100 ms for the scheduler's jitter.
inline std::chrono::milliseconds query_grace(std::chrono::milliseconds t) {
  return std::max(std::chrono::milliseconds{100}, t / 10);
}

}  // namespace interlock::detail
