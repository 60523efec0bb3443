// category: catching up a projection that reads 1% of the log by type
// (catch_up_by_type: Flagged events, one in every 100 of each stream, spread
// over the whole journal), against catching up the counting projection over
// the whole log, in the same run on the same journal of N events. The row's
// time is the by-type catch-up's; `ratio_to_full` is it over the full one's
// (lower is better). On SQLite the journal is then opened with
// category_copies (which indexes it again, timed as `copies_index_seconds`)
// and the by-type catch-up timed once more: `copies_ratio_to_full`. Each
// time includes starting the application (`start_seconds`: the quickest of
// three by-type catch-ups with no event to read); `copies_ratio_beyond_start` leaves it out
// of both sides.
#include <chrono>

#include "journal_fill.hpp"
#include "runtime_host.hpp"

namespace bench {
namespace {

struct Flagged {
  std::string reason;
};
BENCH_JSON(Flagged, reason)

struct Unseen {
  std::string why;
};
BENCH_JSON(Unseen, why)

// Subscribes to a type no event has: what a by-type catch-up costs beyond its events.
struct UnseenCounter {
  static constexpr bool catch_up_by_type = true;
  using events = interlock::types<Unseen>;
  using queries = interlock::types<GetProgress>;
  std::uint64_t seen = 0;
  void on(const Unseen&) { ++seen; }
  Progress handle(const GetProgress&) const { return {seen, 0}; }
};

struct FlagCounter {
  static constexpr bool catch_up_by_type = true;
  using events = interlock::types<Flagged>;
  using queries = interlock::types<GetProgress>;  // the only projection of its application
  std::uint64_t flags = 0;
  void on(const Flagged&) { ++flags; }
  Progress handle(const GetProgress&) const { return {flags, 0}; }
};

// N events over A accounts, in rounds of 100 per account: an Opened first, a
// Flagged at every 100th version, Deposited otherwise. Returns the Flagged count.
caf::expected<std::uint64_t> fill_flagged(interlock::journal& j, std::size_t n, std::size_t accounts) {
  std::vector<std::string> ids;
  for (std::size_t a = 0; a < accounts; ++a) ids.push_back(interlock::new_id());
  std::vector<std::uint64_t> versions(accounts, 0);
  std::uint64_t written = 0, flags = 0;
  while (written < n) {
    std::vector<interlock::append_request> batch;
    for (std::size_t a = 0; a < accounts && written < n; ++a) {
      interlock::append_request req{"Account", ids[a], versions[a], {}, "", "", ""};
      for (int k = 0; k < 100 && written < n; ++k, ++written) {
        const auto v = versions[a] + req.events.size() + 1;
        if (v == 1) req.events.push_back({"Opened", 1, opened_payload(a)});
        else if (v % 100 == 0) req.events.push_back({"Flagged", 1, R"({"reason":"audit"})"}), ++flags;
        else req.events.push_back({"Deposited", 1, deposited_payload(a, v)});
      }
      versions[a] += req.events.size();
      batch.push_back(std::move(req));
    }
    if (auto err = append_all(j, batch); !err.empty()) return make_error(interlock::errc::storage, err);
  }
  return flags;
}

template <class Projection>
timed_start catch_up(const options& opts, const std::string& path, const interlock::journal_factory& factory,
                     std::size_t n, std::uint64_t expected) {
  runtime_host host;
  interlock::application_builder builder{host.sys};
  builder.aggregate<Account>().projection<Projection>().settings(settings_for(opts, path)).journal(factory);
  return start_and_catch_up(builder, n, expected);
}

// Turns category copies on for the journal at `path` (re-indexing it), then
// times the by-type catch-up again; fills the row's copies_* figures.
void time_with_copies(const options& opts, const std::string& path, std::size_t n, std::uint64_t flags,
                      double full_seconds, result& r) {
  interlock::sqlite_options with_copies{path, opts.sync};
  with_copies.category_copies = true;
  const auto opened = std::chrono::steady_clock::now();
  if (auto j = interlock::open_sqlite_journal(with_copies); !j) {
    r.error = "cannot open the journal with category copies: " + describe_error(j.error());
    return;
  }
  r.extra["copies_index_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - opened).count();
  const auto factory = interlock::sqlite_journal_factory(with_copies);
  auto by_type = catch_up<FlagCounter>(opts, path, factory, n, flags);
  auto start = catch_up<UnseenCounter>(opts, path, factory, n, 0);
  for (int again = 0; again < 2 && start.error.empty(); ++again)  // the least of 3: a start is a few ms, and noisy
    if (auto t = catch_up<UnseenCounter>(opts, path, factory, n, 0); !t.error.empty() || t.seconds < start.seconds)
      start = t;
  for (const auto* s : {&by_type, &start})
    if (!s->error.empty()) {
      r.error = s->error;
      return;
    }
  r.extra["copies_seconds"] = by_type.seconds;
  r.extra["copies_ratio_to_full"] = full_seconds > 0 ? by_type.seconds / full_seconds : 0;
  r.extra["start_seconds"] = start.seconds;
  r.extra["copies_ratio_beyond_start"] =
      full_seconds > start.seconds ? (by_type.seconds - start.seconds) / (full_seconds - start.seconds) : 0;
}

}  // namespace

result workload_category(const options& opts, const std::string& dir) {
  result r;
  r.workload = "category";
  r.journal = opts.journal_name();
  const auto path = dir + "/category.db";
  remove_database(path);
  const auto n = opts.events;
  const auto accounts = std::max<std::size_t>(1, std::min(opts.accounts, n));
  auto factory = journal_factory_for(opts, path);
  [&] {
    auto filler = factory();
    if (!filler) {
      r.error = "cannot open the journal: " + describe_error(filler.error());
      return;
    }
    auto flags = fill_flagged(**filler, n, accounts);
    if (!flags) {
      r.error = describe_error(flags.error());
      return;
    }
    if (!opts.memory) filler->reset();
    timed_start full, by_type;
    {
      runtime_host host;
      interlock::application_builder builder{host.sys};
      builder.aggregate<Account>().projection<Counter>().settings(settings_for(opts, path)).journal(factory);
      full = start_and_catch_up(builder, n, n - *flags);  // Counter counts Opened and Deposited: all but the flags
    }
    by_type = catch_up<FlagCounter>(opts, path, factory, n, *flags);
    for (auto* s : {&full, &by_type})
      if (!s->error.empty()) {
        r.error = s->error;
        return;
      }
    r.set_rate(*flags, by_type.seconds);
    r.extra["full_seconds"] = full.seconds;
    r.extra["ratio_to_full"] = full.seconds > 0 ? by_type.seconds / full.seconds : 0;
    r.notes.push_back(with_commas(static_cast<double>(*flags)) + " Flagged events (1%) among " +
                      with_commas(static_cast<double>(n)) + "; timed: build() to the answer of a query with "
                      "{.after = N}, by type against the whole log");
    if (opts.memory) return;
    time_with_copies(opts, path, n, *flags, full.seconds, r);
    r.notes.push_back("copies_*: the same by-type catch-up with category_copies on (journal re-indexed first)");
  }();
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
