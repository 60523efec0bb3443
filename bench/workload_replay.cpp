// replay: one aggregate with N events, recovered from a cold start. The stream
// is written straight through the journal API; then a new actor system and
// application start, and the first command to the aggregate (Ping, which emits
// nothing) is timed: that reply waits for the whole recovery.
#include "journal_fill.hpp"
#include "runtime_host.hpp"

namespace bench {

result workload_replay(const options& opts, const std::string& dir) {
  result r;
  r.workload = "replay";
  r.journal = opts.journal_name();
  const auto path = dir + "/replay.db";
  remove_database(path);
  const auto n = opts.events;
  const auto id = interlock::new_id();
  auto factory = journal_factory_for(opts, path);
  [&] {
    // -- fill ----------------------------------------------------------------
    auto filler = factory();
    if (!filler) {
      r.error = "cannot open the journal: " + describe_error(filler.error());
      return;
    }
    const auto t_fill = clock::now();
    constexpr std::size_t chunk = 65'536;
    for (std::uint64_t v = 1; v <= n; v += chunk) {
      const auto count = std::min<std::uint64_t>(chunk, n - v + 1);
      std::vector<interlock::append_request> batch{
          {"Account", id, v - 1, account_events(0, v, count), "", "", ""}};
      if (auto err = append_all(**filler, batch); !err.empty()) {
        r.error = err;
        return;
      }
    }
    r.extra["fill_seconds"] = seconds_since(t_fill);
    if (!opts.memory) filler->reset();  // closed: the application starts cold
    // (the in-memory store lives as long as one of its journals: keep it open)

    // -- recover -------------------------------------------------------------
    runtime_host host;
    interlock::application_builder builder{host.sys};
    builder.aggregate<Account>().settings(settings_for(opts, path)).journal(factory);
    const auto t_build = clock::now();
    auto app = builder.build();
    if (!app) {
      r.error = "cannot start the application: " + describe_error(app.error());
      return;
    }
    r.extra["build_ms"] = seconds_since(t_build) * 1e3;
    interlock::dispatch_options o;
    o.timeout = long_timeout;
    const auto t0 = clock::now();
    auto ping = app->dispatch(id, Ping{1}, o);
    const auto recovery = seconds_since(t0);
    if (!ping) {
      r.error = "the first command after " + std::to_string(recovery) + " s: " + describe_error(ping.error());
      return;
    }
    if (ping->value != n) {
      r.error = "recovered version " + std::to_string(ping->value) + ", expected " + std::to_string(n);
      return;
    }
    r.set_rate(n, recovery);
    r.notes.push_back("one stream of " + with_commas(static_cast<double>(n)) +
                      " events; timed: the first command's round trip after build() (build not counted)");
  }();
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
