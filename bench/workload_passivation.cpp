// passivation: M aggregates (Account), each touched once by one Open, through
// the full runtime path with `window` commands in flight (drive(), as in bank).
// Every Open spawns a new aggregate actor. With max_live_aggregates = cap the
// router keeps at most `cap` of them live (it passivates the least recently
// used), so memory stays bounded; the no-cap run keeps all M live and is the
// comparison. The figure that matters is the process's peak RSS (each
// workload runs in its own process); events/s and per-command latency come
// along. Live actors are sampled from CAF's registry while the commands run.
#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include <interlock/runtime/actor_api.hpp>

#include "runtime_host.hpp"

namespace bench {
namespace {

result run_passivation(const options& opts, const std::string& dir, const std::string& name, std::size_t cap) {
  result r;
  r.workload = name;
  r.journal = opts.journal_name();
  const auto path = dir + "/" + name + ".db";
  remove_database(path);
  std::optional<clock::time_point> last_reply;  // teardown: from here until the actor system is gone
  {
    runtime_host host;
    auto settings = settings_for(opts, path);
    settings.max_live_aggregates = cap;  // 0: no cap
    interlock::application_builder builder{host.sys};
    builder.aggregate<Account>().settings(settings);
    auto app = builder.build();
    if (!app) {
      r.error = "cannot start the application: " + describe_error(app.error());
    } else {
      const auto total = opts.aggregates;
      const auto drivers = opts.driver_count();
      auto& registry = host.sys.registry();
      const auto baseline = registry.running();  // the runtime's own actors
      const auto rss_before = current_rss_mb();
      std::atomic<std::size_t> max_running{baseline};
      auto open = [&](caf::event_based_actor* self, std::size_t i, reply_fn done) {
        if (i % 256 == 0) {
          const auto now = registry.running();
          auto seen = max_running.load(std::memory_order_relaxed);
          while (now > seen && !max_running.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {}
        }
        // A fresh ULID per command: every Open goes to a new aggregate, and the
        // bench holds no table of a million ids.
        interlock::async_dispatch(self, *app, interlock::new_id(), Open{owner_name(i)}, report_to(std::move(done)));
      };
      auto opened = drive(host.sys, total, opts.window, open, drivers);
      last_reply = clock::now();
      // Let the drivers (and any passivation in progress) finish stopping.
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
      const auto running_end = registry.running();
      if (!opened.error.empty()) {
        r.error = "opening (" + std::to_string(opened.completed) + " of " + std::to_string(total) +
                  " replies): " + opened.error;
      } else {
        r.set_rate(total, opened.seconds);
        set_latencies(r, std::move(opened.latencies_us));
        const auto above = [&](std::size_t running, std::size_t extra) {
          return static_cast<double>(running > baseline + extra ? running - baseline - extra : 0);
        };
        // The drivers are live while the samples are taken, not at the end.
        r.extra["live_aggregates_max"] = above(max_running.load(), drivers);
        r.extra["live_aggregates_end"] = above(running_end, 0);
        r.extra["cap"] = static_cast<double>(cap);
        r.extra["aggregates"] = static_cast<double>(total);
        r.extra["window"] = static_cast<double>(opts.window);
        r.extra["drivers"] = static_cast<double>(drivers);
        r.extra["rss_before_mb"] = rss_before;
        r.extra["rss_end_mb"] = current_rss_mb();
        // Stopping the application stops every live aggregate: M of them without a cap.
        const auto t_stop = clock::now();
        app->stop();
        r.extra["stop_seconds"] = seconds_since(t_stop);
        const auto peak = peak_rss_mb();
        if (total > 0 && peak > rss_before)
          r.extra["kb_per_aggregate"] = (peak - rss_before) * 1024.0 / static_cast<double>(total);
        r.notes.push_back(with_commas(static_cast<double>(total)) + " aggregates, one Open each, " +
                          (cap ? "max_live_aggregates " + with_commas(static_cast<double>(cap))
                               : std::string{"no cap (max_live_aggregates 0)"}) +
                          ", window " + std::to_string(opts.window) + " over " + std::to_string(drivers) +
                          " driver actors; live_aggregates_* = CAF's running actors above those after build()" +
                          (opts.memory ? "; the in-memory journal's events count in the RSS" : ""));
      }
    }
  }
  if (r.error.empty() && last_reply) r.extra["teardown_seconds"] = seconds_since(*last_reply);
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace

result workload_passivation(const options& opts, const std::string& dir) {
  return run_passivation(opts, dir, "passivation", opts.cap);
}

result workload_passivation_nocap(const options& opts, const std::string& dir) {
  return run_passivation(opts, dir, "passivation_nocap", 0);
}

}  // namespace bench
