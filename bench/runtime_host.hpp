// An actor system tuned like the samples (interlock::tune: one scheduler thread
// per core) and the runtime settings every workload starts its application with.
#pragma once

#include <optional>
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
  s.category_copies = opts.category_copies;
  return s;
}

/// Long enough for a million-event recovery or catch-up on a slow disk, but finite.
inline constexpr std::chrono::milliseconds long_timeout{30 * 60 * 1000};

struct timed_start {
  double seconds = 0;  // from build() to the answer
  std::string error;   // empty: it caught up
};

/// Builds the application, then waits until its projection answering
/// GetProgress has applied the journal's `n` events (a query with {.after = n})
/// and checks that it counts `counted` of them (all, unless said otherwise).
inline timed_start start_and_catch_up(interlock::application_builder& builder, std::uint64_t n,
                                      std::optional<std::uint64_t> counted = std::nullopt) {
  const auto t0 = clock::now();
  auto app = builder.build();
  if (!app) return {0, "cannot start the application: " + describe_error(app.error())};
  interlock::query_options q;
  q.after = n;
  q.timeout = long_timeout;
  auto progress = app->query(GetProgress{}, q);
  const auto elapsed = seconds_since(t0);
  if (!progress) return {elapsed, "the query after " + std::to_string(elapsed) + " s: " + describe_error(progress.error())};
  if (progress->events != counted.value_or(n))
    return {elapsed, "the projection counts " + std::to_string(progress->events) + " events, expected " +
                         std::to_string(counted.value_or(n))};
  return {elapsed, {}};
}

/// A reply callback for async_dispatch that reports to the driver.
inline auto report_to(reply_fn done) {
  return [done = std::move(done)](auto&& reply) { done(reply ? caf::error{} : reply.error()); };
}

}  // namespace bench
