// Tells a process that its journal grew through other connections: other
// processes appending to the same PostgreSQL schema or SQLite file. Opened by
// journal::open_watch() on a connection of its own; the runtime's follower
// (actors/journal_follower.hpp) waits on it on a thread of its own.
//
// Contract: wait() returns the journal's last committed position, read at or
// after the call, once the journal may have grown, and at the latest after
// `poll` (it then reads the position anyway). So an append committed anywhere
// is reported within `poll` of its commit, plus a round trip. A return without
// growth is allowed (the caller compares positions). An error (the server
// went away) is returned after at most `poll`; the next wait() reconnects.
// interrupt() may be called from any thread: the wait under way, or the next
// one, returns at once (the follower is stopping).
#pragma once

#include <chrono>
#include <cstdint>

#include <caf/expected.hpp>

namespace interlock {

class journal_watch {
 public:
  virtual ~journal_watch() = default;

  /// The journal's last position, once it may have moved or `poll` passed.
  virtual caf::expected<std::uint64_t> wait(std::chrono::milliseconds poll) = 0;

  /// Ends the wait under way (or the next) at once; from any thread.
  virtual void interrupt() = 0;
};

}  // namespace interlock
