// bank: A accounts opened, then D deposits each through the full runtime path
// (async_dispatch -> aggregate actor, through the router only to start it -> journal writer -> reply),
// `window` commands in flight, round-robin across accounts. The clock runs from
// the first deposit sent to the last deposit's reply; the opens are not counted.
// On PostgreSQL (--postgres) the row's ceiling is raw libpq inserting the same
// deposits in transactions of the sizes the journal writer formed, right after.
#include <interlock/runtime/actor_api.hpp>

#include "postgres_bench.hpp"
#include "runtime_host.hpp"

namespace bench {
namespace {

// Raw libpq committing the runtime's batches (their sizes in events); the
// ratio and the ceiling's figures go into `r`.
void postgres_ceiling(const options& opts, const std::vector<std::size_t>& batches, result& r) {
  const auto schema = pg::schema_for(opts, "bank_raw");
  try {
    const auto raw = pg::raw_bank_inserts(opts.postgres_url, schema, opts.accounts, batches);
    const auto rate = raw.seconds > 0 ? static_cast<double>(raw.rows) / raw.seconds : 0;
    r.extra["ceiling_seconds"] = raw.seconds;
    r.extra["ceiling_events_per_s"] = rate;
    r.extra["batches"] = static_cast<double>(batches.size());
    r.extra["events_per_batch"] = static_cast<double>(raw.rows) / static_cast<double>(std::max<std::size_t>(1, batches.size()));
    if (rate > 0) r.ratio_to_ceiling = r.events_per_s / rate;
    r.ceiling = "raw libpq";
  } catch (const std::exception& e) {
    r.error = "the raw libpq ceiling: " + std::string{e.what()};
  }
  if (opts.keep) return;
  if (auto err = pg::drop_schema(opts.postgres_url, schema); !err.empty() && r.error.empty())
    r.error = "dropping schema " + schema + ": " + err;
}

}  // namespace

result workload_bank(const options& opts, const std::string& dir) {
  result r;
  r.workload = "bank";
  r.journal = opts.journal_name();
  const auto path = dir + "/bank.db";
  remove_database(path);
  const bool postgres = !opts.postgres_url.empty();
  const auto schema = postgres ? pg::schema_for(opts, "bank") : std::string{};
  auto journal_log = std::make_shared<pg::journal_log>();
  std::vector<std::size_t> batches;  // events per append of the deposits (PostgreSQL)
  {
    runtime_host host;
    interlock::application_builder builder{host.sys};
    builder.aggregate<Account>().settings(settings_for(opts, path));
    if (postgres)
      builder.journal(pg::recording(interlock::postgres_journal_factory({opts.postgres_url, schema}), journal_log));
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
        journal_log->clear();  // the opens' batches are not the deposits'
        const auto cpu_before = process_cpu_seconds();
        auto deposited = drive(host.sys, total, opts.window, deposit, drivers);
        const auto cpu_seconds = process_cpu_seconds() - cpu_before;
        if (!deposited.error.empty()) {
          r.error = "depositing (" + std::to_string(deposited.completed) + " of " + std::to_string(total) +
                    " replies): " + deposited.error;
        } else {
          r.set_rate(total, deposited.seconds);
          batches = journal_log->batches();
          // The share of the run the journal writer's thread spent in append().
          if (postgres) r.extra["journal_busy"] = journal_log->append_seconds() / deposited.seconds;
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
  if (postgres && r.error.empty()) postgres_ceiling(opts, batches, r);
  if (postgres && !opts.keep) pg::drop_schema(opts.postgres_url, schema);
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
