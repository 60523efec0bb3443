// cold: the first command to aggregates nobody has touched since the start, on
// a large journal whose streams are interleaved the way real traffic leaves
// them (every stream's events spread over the whole file). The journal is
// filled through the journal API, so the workload runs on any storage format.
// 1,000 probe streams of exactly 200 events each get one Ping (it emits
// nothing, so the reply waits for the load alone), one at a time; the same is
// measured on a small journal (100 streams of 200) for ratio_to_small, in 3
// alternating rounds (a new runtime each: every probe is cold again).
//
// cold_churn: the same large journal with passivation at work: a cap of a
// fifth of the streams and passivate_after 2 s, deposits to random aggregates
// with a window in flight, so aggregates are passivated and reloaded all the
// time. Every command is answered (the runtime's command timeout); failures
// are counted, not fatal.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include <interlock/runtime/actor_api.hpp>

#include "journal_fill.hpp"
#include "runtime_host.hpp"

namespace bench {
namespace {

// The small journal that ratio_to_small compares with: the same probe streams, fewer of them.
constexpr std::size_t small_streams = 100;
constexpr std::size_t small_events = small_streams * cold_stream_length;

// Stream i of the journal gets lengths[i] events; the probes are the streams
// of exactly cold_stream_length events.
struct cold_shape {
  std::vector<std::string> ids;
  std::vector<std::uint64_t> lengths;
  std::vector<std::size_t> probes;  // indexes into ids
};

// Probe k is stream k * streams / probes, so the probes are spread over every
// batch of the fill; the other events are shared evenly by the other streams.
// The sizes were checked by parse_args (each other stream gets at least one).
cold_shape shape_of(std::size_t events, std::size_t streams, std::size_t probes) {
  cold_shape s;
  s.lengths.assign(streams, 0);
  for (std::size_t k = 0; k < probes; ++k) {
    s.probes.push_back(k * streams / probes);
    s.lengths[s.probes.back()] = cold_stream_length;
  }
  const auto others = streams - probes;
  const auto rest = events - probes * cold_stream_length;
  for (std::size_t i = 0, o = 0; i < streams; ++i) {
    s.ids.push_back(interlock::new_id());
    if (s.lengths[i] == 0) s.lengths[i] = rest / others + (o++ < rest % others ? 1 : 0);
  }
  return s;
}

// cold_stream_length rounds of one append each. In round k stream i gets its
// events number [k * len / R, (k + 1) * len / R) (R rounds): every stream is
// spread evenly over the whole file, as round-robin traffic leaves it, and a
// probe gets one event per round. An append carries events / R events.
std::string fill(interlock::journal& j, const cold_shape& shape) {
  constexpr std::uint64_t rounds = cold_stream_length;
  std::vector<std::uint64_t> written(shape.ids.size(), 0);
  for (std::uint64_t k = 0; k < rounds; ++k) {
    std::vector<interlock::append_request> batch;
    for (std::size_t i = 0; i < shape.ids.size(); ++i) {
      const auto upto = (k + 1) * shape.lengths[i] / rounds;
      if (upto == written[i]) continue;
      batch.push_back({"Account", shape.ids[i], written[i], account_events(i, written[i] + 1, upto - written[i]), "",
                       "", ""});
      written[i] = upto;
    }
    if (auto err = append_all(j, batch); !err.empty()) return err;
  }
  return {};
}

// -- the large journal, shared with cold_churn ---------------------------------
//
// Each workload runs in its own process, so cold leaves its filled file and
// the stream ids (a text file beside it) for cold_churn, which fills its own
// when they are missing or of other sizes (or with --memory).

std::string large_path(const std::string& dir) { return dir + "/cold.db"; }
std::string ids_path(const std::string& dir) { return dir + "/cold.ids"; }

void save_ids(const std::string& dir, const options& opts, const cold_shape& shape) {
  std::ofstream out{ids_path(dir)};
  out << opts.cold_events << ' ' << opts.cold_streams << ' ' << opts.cold_probes << '\n';
  for (const auto& id : shape.ids) out << id << '\n';
}

// The large journal's shape with the ids cold wrote, if its file is there.
std::optional<cold_shape> load_ids(const std::string& dir, const options& opts) {
  std::ifstream in{ids_path(dir)};
  std::size_t events = 0, streams = 0, probes = 0;
  if (opts.memory || !(in >> events >> streams >> probes) || !std::filesystem::exists(large_path(dir)) ||
      events != opts.cold_events || streams != opts.cold_streams || probes != opts.cold_probes)
    return std::nullopt;
  auto shape = shape_of(events, streams, probes);
  for (auto& id : shape.ids)
    if (!(in >> id)) return std::nullopt;
  return shape;
}

void remove_large(const std::string& dir, const options& opts) {
  if (opts.keep) return;
  remove_database(large_path(dir));
  std::filesystem::remove(ids_path(dir));
}

// Fills a new journal at `path` and closes it (the runtime starts cold); the
// fill's seconds. The in-memory store lives as long as one of its journals,
// so with --memory the filler is handed back through `keep_open`.
std::string fill_new(const options& opts, const std::string& path, const cold_shape& shape,
                     const interlock::journal_factory& factory, double& seconds,
                     std::unique_ptr<interlock::journal>& keep_open) {
  remove_database(path);
  auto filler = factory();
  if (!filler) return "cannot open the journal: " + describe_error(filler.error());
  const auto t0 = clock::now();
  if (auto err = fill(**filler, shape); !err.empty()) return err;
  seconds = seconds_since(t0);
  if (opts.memory) keep_open = std::move(*filler);
  return {};
}

// -- cold: first commands, one at a time ----------------------------------------

// Pings every probe once, one at a time, on a new runtime; each reply must
// carry the probe's version (its whole stream was loaded).
std::string probe(const options& opts, const std::string& path, const interlock::journal_factory& factory,
                  const cold_shape& shape, drive_outcome& out) {
  runtime_host host;
  interlock::application_builder builder{host.sys};
  builder.aggregate<Account>().settings(settings_for(opts, path)).journal(factory);
  auto app = builder.build();
  if (!app) return "cannot start the application: " + describe_error(app.error());
  std::size_t wrong = 0;  // replies with another version (touched on the one driver only)
  auto ping = [&](caf::event_based_actor* self, std::size_t i, reply_fn done) {
    interlock::async_dispatch(self, *app, shape.ids[shape.probes[i]], Ping{1},
                              [&wrong, done = std::move(done)](caf::expected<interlock::receipt<std::uint64_t>> r) {
                                if (r && r->value != cold_stream_length) ++wrong;
                                done(r ? caf::error{} : r.error());
                              });
  };
  out = drive(host.sys, shape.probes.size(), 1, ping);
  if (!out.error.empty())
    return "after " + std::to_string(out.completed) + " first commands: " + out.error;
  if (wrong)
    return std::to_string(wrong) + " probes answered with a version other than " + std::to_string(cold_stream_length);
  return {};
}

// Reads each probe stream once straight through the journal (scan_stream on a
// connection of its own, no runtime), right after the fill: the journal's
// share of a cold load in the same run, so that a slow run shows whether the
// file or the runtime's round trip is slow.
std::string scan_probes(const interlock::journal_factory& factory, const cold_shape& shape, std::vector<double>& us) {
  auto j = factory();
  if (!j) return "cannot open the journal: " + describe_error(j.error());
  for (auto i : shape.probes) {
    const auto t0 = clock::now();
    auto scanned = (*j)->scan_stream("Account", shape.ids[i], 1, cold_stream_length + 1,
                                     [](const interlock::event_view&) { return true; },
                                     interlock::scan_fields::without_ids);
    if (!scanned) return "scanning a probe stream: " + describe_error(scanned.error());
    if (*scanned != cold_stream_length) return "a probe stream does not hold " + std::to_string(cold_stream_length) + " events";
    us.push_back(seconds_since(t0) * 1e6);
  }
  return {};
}

// Why the two journals are probed in alternating rounds: on a shared VM a
// burst of noise lasts long enough to slow one whole probe run; alternating
// spreads it over both, as the bench's own comparisons of builds do.
constexpr int probe_rounds = 3;

std::string run_cold(const options& opts, const std::string& dir, result& r) {
  std::filesystem::remove(ids_path(dir));  // a stale one would name streams of another fill
  const auto large = shape_of(opts.cold_events, opts.cold_streams, opts.cold_probes);
  const auto small_path = dir + "/cold_small.db";
  const auto small = shape_of(small_events, small_streams, small_streams);
  auto large_factory = journal_factory_for(opts, large_path(dir));
  auto small_factory = journal_factory_for(opts, small_path);
  std::unique_ptr<interlock::journal> large_open, small_open;  // --memory: the stores live while these do
  double fill_seconds = 0, small_fill_seconds = 0;
  if (auto err = fill_new(opts, large_path(dir), large, large_factory, fill_seconds, large_open); !err.empty())
    return err;
  if (!opts.memory) save_ids(dir, opts, large);
  std::vector<double> scan_us;
  if (auto failed = scan_probes(large_factory, large, scan_us); !failed.empty()) return failed;
  auto err = fill_new(opts, small_path, small, small_factory, small_fill_seconds, small_open);
  std::vector<double> cold_us, small_us;
  double cold_seconds = 0;
  for (int round = 0; round < probe_rounds && err.empty(); ++round) {
    drive_outcome cold, warm;
    if (auto failed = probe(opts, large_path(dir), large_factory, large, cold); !failed.empty()) return failed;
    if (!(err = probe(opts, small_path, small_factory, small, warm)).empty()) break;
    cold_us.insert(cold_us.end(), cold.latencies_us.begin(), cold.latencies_us.end());
    small_us.insert(small_us.end(), warm.latencies_us.begin(), warm.latencies_us.end());
    cold_seconds += cold.seconds;
  }
  if (!opts.keep) remove_database(small_path);
  if (!err.empty()) return "small journal: " + err;

  r.extra["fill_seconds"] = fill_seconds;
  r.set_rate(large.probes.size() * probe_rounds, cold_seconds);
  const auto small_p50 = percentile(small_us, 50);
  r.extra["small_p50_us"] = small_p50;
  r.extra["small_p99_us"] = percentile(small_us, 99);
  set_latencies(r, std::move(cold_us));
  if (small_p50 > 0) r.extra["ratio_to_small"] = *r.p50_us / small_p50;
  r.extra["small_fill_seconds"] = small_fill_seconds;
  r.extra["scan_p50_us"] = percentile(scan_us, 50);  // the journal alone, right after the fill
  r.extra["journal_events"] = static_cast<double>(opts.cold_events);
  r.extra["streams"] = static_cast<double>(opts.cold_streams);
  r.extra["probes"] = static_cast<double>(large.probes.size());
  r.notes.push_back(std::to_string(probe_rounds) + " rounds, each a new runtime on each journal, large then small: "
                    "first command (Ping) to " + with_commas(static_cast<double>(large.probes.size())) +
                    " cold aggregates of " + std::to_string(cold_stream_length) +
                    " events, one at a time, in a journal of " + with_commas(static_cast<double>(opts.cold_events)) + " events over " +
                    with_commas(static_cast<double>(opts.cold_streams)) + " interleaved streams; small: " +
                    std::to_string(small_streams) + " streams of " + std::to_string(cold_stream_length) +
                    " (events = commands)");
  return {};
}

// -- cold_churn: passivation at work --------------------------------------------

// Failed commands are counted and the run goes on: what matters is that each
// one was answered.
struct tally {
  std::atomic<std::size_t> timeouts{0}, errors{0};
  std::mutex first_mutex;
  std::string first;  // the first failure, for the notes

  void count(const caf::error& err) {
    const bool timeout = interlock::is(err, interlock::errc::timeout) || err == caf::sec::request_timeout;
    ++(timeout ? timeouts : errors);
    std::lock_guard lock{first_mutex};
    if (first.empty()) first = describe_error(err);
  }
};

// Command i's aggregate: uniform over the streams, the same sequence every run,
// no state shared by the drivers (splitmix64 of i).
std::size_t pick(std::size_t i, std::size_t streams) {
  std::uint64_t z = static_cast<std::uint64_t>(i) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::size_t>((z ^ (z >> 31)) % streams);
}

// The large journal cold left behind, or a new fill of the same shape.
std::string large_journal(const options& opts, const std::string& dir, const interlock::journal_factory& factory,
                          cold_shape& shape, std::unique_ptr<interlock::journal>& keep_open, result& r) {
  if (auto saved = load_ids(dir, opts)) {
    shape = std::move(*saved);
    r.extra["reused_journal"] = 1;
    return {};
  }
  shape = shape_of(opts.cold_events, opts.cold_streams, opts.cold_probes);
  double seconds = 0;
  auto err = fill_new(opts, large_path(dir), shape, factory, seconds, keep_open);
  r.extra["fill_seconds"] = seconds;
  r.extra["reused_journal"] = 0;
  return err;
}

void churn_row(const options& opts, drive_outcome& out, const tally& failed, std::size_t cap,
               std::size_t aggregates, result& r) {
  r.set_rate(out.completed, out.seconds);
  set_latencies(r, std::move(out.latencies_us));
  r.extra["timeouts"] = static_cast<double>(failed.timeouts.load());
  r.extra["errors"] = static_cast<double>(failed.errors.load());
  r.extra["cap"] = static_cast<double>(cap);
  r.extra["passivate_after_s"] = 2;
  r.extra["aggregates"] = static_cast<double>(aggregates);
  r.extra["window"] = static_cast<double>(opts.churn_window);
  r.extra["journal_events"] = static_cast<double>(opts.cold_events);
  r.notes.push_back("Deposits to random aggregates of " + with_commas(static_cast<double>(aggregates)) +
                    ", window " + std::to_string(opts.churn_window) + ", max_live_aggregates " +
                    with_commas(static_cast<double>(cap)) + ", passivate_after 2 s; up to " +
                    with_commas(static_cast<double>(opts.churn_commands)) + " commands or " +
                    std::to_string(opts.churn_seconds) + " s (events = commands answered)");
  if (!failed.first.empty()) r.notes.push_back("first failure: " + failed.first);
}

// A fifth of the aggregates may be live, so most commands find theirs
// passivated; the 2 s idle limit passivates the others between two touches.
std::string churn(const options& opts, const std::string& path, const interlock::journal_factory& factory,
                  const cold_shape& shape, result& r) {
  runtime_host host;
  auto settings = settings_for(opts, path);
  settings.max_live_aggregates = std::max<std::size_t>(1, shape.ids.size() / 5);
  settings.passivate_after = std::chrono::seconds{2};
  interlock::application_builder builder{host.sys};
  builder.aggregate<Account>().settings(settings).journal(factory);
  auto app = builder.build();
  if (!app) return "cannot start the application: " + describe_error(app.error());
  tally failed;
  auto deposit = [&](caf::event_based_actor* self, std::size_t i, reply_fn done) {
    const auto a = pick(i, shape.ids.size());
    interlock::async_dispatch(self, *app, shape.ids[a], Deposit{1, deposit_tag(a, i)},
                              [&failed, done = std::move(done)](auto&& reply) {
                                if (!reply) failed.count(reply.error());
                                done(caf::error{});
                              });
  };
  // one driver per 256 in flight, as in bank; a stall of 120 s ends the run with an error
  const auto drivers = (opts.churn_window + 255) / 256;
  const auto until = clock::now() + std::chrono::seconds{opts.churn_seconds};
  auto out = drive(host.sys, opts.churn_commands, opts.churn_window, deposit, drivers, std::chrono::seconds{120},
                   until);
  if (!out.error.empty()) return "after " + std::to_string(out.completed) + " replies: " + out.error;
  churn_row(opts, out, failed, settings.max_live_aggregates, shape.ids.size(), r);
  return {};
}

}  // namespace

result workload_cold(const options& opts, const std::string& dir) {
  result r;
  r.workload = "cold";
  r.journal = opts.journal_name();
  r.error = run_cold(opts, dir, r);
  r.peak_rss_mb = peak_rss_mb();
  return r;  // the large journal stays for cold_churn, which removes it
}

result workload_cold_churn(const options& opts, const std::string& dir) {
  result r;
  r.workload = "cold_churn";
  r.journal = opts.journal_name();
  auto factory = journal_factory_for(opts, large_path(dir));
  cold_shape shape;
  std::unique_ptr<interlock::journal> keep_open;
  r.error = large_journal(opts, dir, factory, shape, keep_open, r);
  if (r.error.empty()) r.error = churn(opts, large_path(dir), factory, shape, r);
  remove_large(dir, opts);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
