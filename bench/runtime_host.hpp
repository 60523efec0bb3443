// An actor system tuned like the samples (interlock::tune: one scheduler thread
// per core) and the runtime settings every workload starts its application with.
#pragma once

#include <string>

#include <caf/all.hpp>

#include <interlock/runtime/interlock.hpp>

#include "bench.hpp"
#include "bench_domain.hpp"
#include "driver.hpp"

namespace bench {

struct tuned_config : caf::actor_system_config {
  tuned_config() { interlock::tune(*this); }
};

/// Declare it before the application: the application must stop first.
struct runtime_host {
  tuned_config cfg;
  caf::actor_system sys{cfg};
};

/// The runtime's defaults, with the bench's journal choice and sync level.
inline interlock::runtime_settings settings_for(const options& opts, const std::string& path) {
  interlock::runtime_settings s;
  s.database_path = path;
  s.synchronous = opts.sync;
  s.in_memory = opts.memory;
  return s;
}

/// Long enough for a million-event recovery or catch-up on a slow disk, but finite.
inline constexpr std::chrono::milliseconds long_timeout{30 * 60 * 1000};

/// A reply callback for async_dispatch that reports to the driver.
inline auto report_to(reply_fn done) {
  return [done = std::move(done)](auto&& reply) { done(reply ? caf::error{} : reply.error()); };
}

}  // namespace bench
