// catchup: a projection catching up over a whole journal of N events (A
// accounts, written straight through the journal API). Timed from build()
// until a query with {.after = N} answers.
#include "journal_fill.hpp"
#include "runtime_host.hpp"

namespace bench {

result workload_catchup(const options& opts, const std::string& dir) {
  result r;
  r.workload = "catchup";
  r.journal = opts.journal_name();
  const auto path = dir + "/catchup.db";
  remove_database(path);
  const auto n = opts.events;
  const auto accounts = std::max<std::size_t>(1, std::min(opts.accounts, n));
  auto factory = journal_factory_for(opts, path);
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
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
