// resume: a projection with a read-model snapshot starting over a journal of
// N events it has already seen. The first start catches up over the whole
// journal and stores a snapshot when it stops; the second start, timed from
// build() until a query with {.after = N} answers, loads the snapshot and
// has nothing left to apply. Ceiling: build() and stop of the same
// application without the projection, on the same journal.
#include "journal_fill.hpp"
#include "runtime_host.hpp"

namespace bench {
namespace {

// Starts the application (with the projection or without), and with it waits
// for the projection to have applied N events.
timed_start start_once(const options& opts, const std::string& path, const interlock::journal_factory& factory,
                       bool with_projection) {
  runtime_host host;
  interlock::application_builder builder{host.sys};
  auto settings = settings_for(opts, path);
  settings.read_store_path = path + ".read";
  builder.aggregate<Account>().settings(settings).journal(factory);
  if (with_projection) {
    builder.projection<CheckpointedCounter>();
    return start_and_catch_up(builder, opts.events);
  }
  const auto t0 = clock::now();
  auto app = builder.build();
  if (!app) return {0, "cannot start the application: " + describe_error(app.error())};
  return {seconds_since(t0), {}};
}

}  // namespace

result workload_resume(const options& opts, const std::string& dir) {
  result r;
  r.workload = "resume";
  r.journal = opts.journal_name();
  const auto path = dir + "/resume.db";
  remove_database(path);
  remove_database(path + ".read");
  const auto n = opts.events;
  auto factory = journal_factory_for(opts, path);
  [&] {
    auto filler = factory();
    if (!filler) {
      r.error = "cannot open the journal: " + describe_error(filler.error());
      return;
    }
    if (auto err = fill_accounts(**filler, n, std::max<std::size_t>(1, std::min(opts.accounts, n))); !err.empty()) {
      r.error = err;
      return;
    }
    if (!opts.memory) filler->reset();
    auto first = start_once(opts, path, factory, true);  // catches up, stores its snapshot at the stop
    auto bare = start_once(opts, path, factory, false);
    auto resumed = start_once(opts, path, factory, true);
    for (auto* s : {&first, &bare, &resumed})
      if (!s->error.empty()) {
        r.error = s->error;
        return;
      }
    r.set_rate(n, resumed.seconds);
    r.extra["first_start_seconds"] = first.seconds;
    r.extra["bare_start_seconds"] = bare.seconds;
    r.extra["ratio_to_first_start"] = first.seconds > 0 ? resumed.seconds / first.seconds : 0;
    r.ratio_to_ceiling = bare.seconds > 0 ? resumed.seconds / bare.seconds : 0;
    r.ceiling = "bare start";
    r.notes.push_back(with_commas(static_cast<double>(n)) +
                      " events already seen; timed: build() to the answer of a query with {.after = N}");
  }();
  if (!opts.keep) {
    remove_database(path);
    remove_database(path + ".read");
  }
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
