// bank: A accounts opened, then D deposits each through the full runtime path
// (async_dispatch -> aggregate actor, through the router only to start it -> journal writer -> reply),
// `window` commands in flight, round-robin across accounts. The clock runs from
// the first deposit sent to the last deposit's reply; the opens are not counted.
#include <interlock/runtime/actor_api.hpp>

#include "runtime_host.hpp"

namespace bench {

result workload_bank(const options& opts, const std::string& dir) {
  result r;
  r.workload = "bank";
  r.journal = opts.journal_name();
  const auto path = dir + "/bank.db";
  remove_database(path);
  {
    runtime_host host;
    interlock::application_builder builder{host.sys};
    builder.aggregate<Account>().settings(settings_for(opts, path));
    auto app = builder.build();
    if (!app) {
      r.error = "cannot start the application: " + describe_error(app.error());
    } else {
      const auto accounts = opts.accounts;
      std::vector<std::string> ids;
      for (std::size_t a = 0; a < accounts; ++a) ids.push_back(interlock::new_id());

      const auto drivers = opts.driver_count();
      auto open = [&](caf::event_based_actor* self, std::size_t a, reply_fn done) {
        interlock::async_dispatch(self, *app, ids[a], Open{owner_name(a)}, report_to(std::move(done)));
      };
      auto opened = drive(host.sys, accounts, opts.window, open, drivers);
      r.extra["open_seconds"] = opened.seconds;
      if (!opened.error.empty()) {
        r.error = "opening the accounts: " + opened.error;
      } else {
        const auto total = accounts * opts.deposits;
        // Command i is deposit number i / A to account i % A: one deposit per
        // account per round, so with window W each account has about W / A queued.
        auto deposit = [&](caf::event_based_actor* self, std::size_t i, reply_fn done) {
          const auto a = i % accounts, d = i / accounts;
          interlock::async_dispatch(self, *app, ids[a], Deposit{1, deposit_tag(a, d)}, report_to(std::move(done)));
        };
        const auto cpu_before = process_cpu_seconds();
        auto deposited = drive(host.sys, total, opts.window, deposit, drivers);
        const auto cpu_seconds = process_cpu_seconds() - cpu_before;
        if (!deposited.error.empty()) {
          r.error = "depositing (" + std::to_string(deposited.completed) + " of " + std::to_string(total) +
                    " replies): " + deposited.error;
        } else {
          r.set_rate(total, deposited.seconds);
          set_latencies(r, std::move(deposited.latencies_us));
          r.extra["window"] = static_cast<double>(opts.window);
          r.extra["drivers"] = static_cast<double>(drivers);
          // All threads' CPU per deposit, and how many of the cores were busy.
          r.extra["cpu_us_per_event"] = cpu_seconds * 1e6 / static_cast<double>(total);
          r.extra["cores_busy"] = deposited.seconds > 0 ? cpu_seconds / deposited.seconds : 0;
          r.notes.push_back(std::to_string(accounts) + " accounts x " + std::to_string(opts.deposits) +
                            " deposits, window " + std::to_string(opts.window) + " over " + std::to_string(drivers) +
                            " driver actors; opens (" +
                            std::to_string(accounts) + ") not counted; no projection registered");
        }
      }
    }
  }
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
