// latency: one client, one command at a time (a driver window of 1), deposits
// to one account; p50/p99 from send to reply.
#include <interlock/runtime/actor_api.hpp>

#include "runtime_host.hpp"

namespace bench {

result workload_latency(const options& opts, const std::string& dir) {
  result r;
  r.workload = "latency";
  r.journal = opts.journal_name();
  const auto path = dir + "/latency.db";
  remove_database(path);
  {
    runtime_host host;
    interlock::application_builder builder{host.sys};
    builder.aggregate<Account>().settings(settings_for(opts, path));
    auto app = builder.build();
    if (!app) {
      r.error = "cannot start the application: " + describe_error(app.error());
    } else {
      const auto id = interlock::new_id();
      constexpr std::size_t warmup = 10;  // spawns the aggregate, warms the journal's statements
      auto send = [&](std::size_t offset) {
        return [&, offset](caf::event_based_actor* self, std::size_t i, reply_fn done) {
          if (i + offset == 0)
            interlock::async_dispatch(self, *app, id, Open{owner_name(0)}, report_to(std::move(done)));
          else
            interlock::async_dispatch(self, *app, id, Deposit{1, deposit_tag(0, i + offset - 1)},
                                      report_to(std::move(done)));
        };
      };
      auto warm = drive(host.sys, warmup, 1, send(0));
      if (!warm.error.empty()) {
        r.error = "warming up: " + warm.error;
      } else {
        auto timed = drive(host.sys, opts.commands, 1, send(warmup));
        if (!timed.error.empty()) {
          r.error = "after " + std::to_string(timed.completed) + " commands: " + timed.error;
        } else {
          r.set_rate(opts.commands, timed.seconds);
          set_latencies(r, std::move(timed.latencies_us));
          r.notes.push_back(std::to_string(opts.commands) + " deposits to one account, one at a time, after " +
                            std::to_string(warmup) + " untimed");
        }
      }
    }
  }
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
