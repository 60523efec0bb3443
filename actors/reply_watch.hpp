// One request (a command or a query) watched for its deadline
// (actors/deadline_keeper.hpp). Internal.
#pragma once

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

}  // namespace interlock::detail
