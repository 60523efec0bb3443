// catchup: a projection catching up over a whole journal of N events (A
// accounts, written straight through the journal API). Timed from build()
// until a query with {.after = N} answers. On PostgreSQL (--postgres) the
// row's ceiling is raw libpq reading the same pages of the log the runtime
// read, right after it.
#include "journal_fill.hpp"
#include "postgres_bench.hpp"
#include "runtime_host.hpp"

namespace bench {
namespace {

void postgres_ceiling(const options& opts, const std::string& schema, const pg::journal_log& log, result& r) {
  const auto pages = log.pages();
  try {
    const auto raw = pg::raw_log_reads(opts.postgres_url, schema, pages);
    const auto rate = raw.seconds > 0 ? static_cast<double>(raw.rows) / raw.seconds : 0;
    if (raw.rows != r.events)
      throw std::runtime_error{"read " + std::to_string(raw.rows) + " events, expected " + std::to_string(r.events)};
    r.extra["ceiling_seconds"] = raw.seconds;
    r.extra["ceiling_events_per_s"] = rate;
    r.extra["pages"] = static_cast<double>(pages.size());
    r.extra["page_size"] = pages.empty() ? 0.0 : static_cast<double>(pages.front().max_count);
    if (rate > 0) r.ratio_to_ceiling = r.events_per_s / rate;
    r.ceiling = "raw libpq";
  } catch (const std::exception& e) {
    r.error = "the raw libpq ceiling: " + std::string{e.what()};
  }
}

}  // namespace

result workload_catchup(const options& opts, const std::string& dir) {
  result r;
  r.workload = "catchup";
  r.journal = opts.journal_name();
  const auto path = dir + "/catchup.db";
  remove_database(path);
  const auto n = opts.events;
  const auto accounts = std::max<std::size_t>(1, std::min(opts.accounts, n));
  const bool postgres = !opts.postgres_url.empty();
  const auto schema = postgres ? pg::schema_for(opts, "catchup") : std::string{};
  auto journal_log = std::make_shared<pg::journal_log>();
  auto factory = postgres ? pg::recording(interlock::postgres_journal_factory({opts.postgres_url, schema}), journal_log)
                          : journal_factory_for(opts, path);
  [&] {
    // -- fill -------------------------------------------------------------------
    auto filler = factory();
    if (!filler) {
      r.error = "cannot open the journal: " + describe_error(filler.error());
      return;
    }
    const auto t_fill = clock::now();
    if (auto err = fill_accounts(**filler, n, accounts); !err.empty()) {
      r.error = err;
      return;
    }
    r.extra["fill_seconds"] = seconds_since(t_fill);
    if (!opts.memory) filler->reset();
    journal_log->clear();

    // -- catch up --------------------------------------------------------------
    runtime_host host;
    interlock::application_builder builder{host.sys};
    builder.aggregate<Account>().projection<Counter>().settings(settings_for(opts, path)).journal(factory);
    auto caught_up = start_and_catch_up(builder, n);
    if (!caught_up.error.empty()) {
      r.error = caught_up.error;
      return;
    }
    r.set_rate(n, caught_up.seconds);
    r.notes.push_back(with_commas(static_cast<double>(n)) + " events over " + std::to_string(accounts) +
                      " accounts; timed: build() to the answer of a query with {.after = N}");
  }();
  if (postgres && r.error.empty()) postgres_ceiling(opts, schema, *journal_log, r);  // the application is gone
  if (postgres && !opts.keep) pg::drop_schema(opts.postgres_url, schema);
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
