// What the application's projections are doing: application::status().
//
//   for (auto& p : *app->status())
//     std::printf("%s %s at %llu, %llu behind\n", p.name.c_str(), to_string(p.state), p.position, p.lag_events);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace interlock {

struct projection_status {
  enum class phase { catching_up, live, failed, paused, rebuilding };

  std::string name;                 // the projection's type name
  phase state = phase::catching_up;  // catching_up: reading the journal; live: applying events as committed;
                                     // paused: application::pause(); failed: see `failure`;
                                     // rebuilding: rebuild() builds a new read model while this one answers
  std::uint64_t position = 0;       // last global position applied
  std::uint64_t lag_events = 0;     // events in the journal after `position` that it knows of
  double lag_seconds = 0;           // recorded time of the newest of them minus that of the last applied (0: none)
  double events_per_s = 0;          // events applied since the projection (re)started, per second
  std::size_t waiting_queries = 0;  // queries waiting for a position (query_options::after)
  std::uint64_t checkpoint = 0;     // position its stored read model reflects: the last snapshot, or its tables (0: none)
  std::size_t parked = 0;           // events parked after their handler kept failing (application::parked_events)
  std::string failure;              // what stopped it (state failed)
};

/// "catching_up", "live", "failed", "paused", "rebuilding".
const char* to_string(projection_status::phase p);

}  // namespace interlock
