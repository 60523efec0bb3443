// interlock-bench: throughput, latency, recovery and catch-up of the runtime,
// each against a raw-SQLite ceiling measured in the same run; snapshot
// recovery against a full replay, passivation's memory against no cap, and
// the first command to cold aggregates in a large journal against a small one.
// See README.md.
//
// Every workload runs in its own child process (fork), so its peak RSS is its
// own, a crash or hang in one is reported and the others still run, and the
// parent never starts an actor system.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.hpp"
#include "bench_domain.hpp"
#include "postgres_bench.hpp"

namespace {

using bench::options;
using bench::result;

constexpr const char* usage_text = R"(usage: interlock-bench [options]
  --only W[,W...]   run only these workloads: bank, latency, replay, catchup, resume,
                    catchup_durable, category, saga, snapshot, passivation, cold, ceiling
                    (the ceiling parts the chosen workloads compare against always run)
  --quick           small sizes, a few seconds in all
  --memory          the runtime workloads use the in-memory journal (actor overhead alone)
  --json            one JSON object per workload on stdout (the table goes to stderr)
  --accounts A      bank accounts (default 1000; quick 100)
  --deposits D      deposits per account (default 100; quick 20)
  --events N        replay stream / catch-up, resume, catchup_durable and category journal / read ceiling /
                    snapshot stream size
                    (default 1000000; quick 50000)
  --aggregates M    passivation: aggregates touched once each (default 1000000; quick 50000)
  --cap C           passivation: max_live_aggregates of the capped run (default 100000; quick 5000);
                    a second run without a cap follows, except under --quick
  --cold-events N   cold: events in the large journal (default 2000000; quick 200000)
  --cold-streams S  cold: its streams, 1000 of them (quick 100) of exactly 200 events; also
                    cold_churn's aggregates (default 10000; quick 1000)
  --churn-window W  cold_churn: commands in flight (default 64)
  --window W        bank, passivation: commands in flight (default 2048; quick 256)
  --drivers K       bank, passivation: driver actors sharing the window (default: one per 256 in flight)
  --commands C      latency and ceiling (c): commands one at a time (default 1000; quick 100)
  --sync MODE       off | normal | full | extra (default full, like the runtime)
  --category-copies the SQLite journals keep category copies (journal.category_copies)
  --postgres URL    bank and catchup on the PostgreSQL journal at URL (libpq's), each in a new
                    schema dropped afterwards, against raw libpq on the same server in the same
                    run; needs --only with bank and/or catchup
  --dir PATH        put the database files here (default: a new temp dir, removed at the end)
  --keep            keep the database files
  --timeout S       kill a workload after S seconds and report it as hung (default 1800; quick 300)
  --no-fork         run the workloads in this process (debugging; peak RSS becomes cumulative)
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "interlock-bench: %s\n\n%s", message.c_str(), usage_text);
  std::exit(2);
}

std::size_t parse_size(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  auto value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value == 0)
    usage_error(flag + " needs a positive integer, got '" + text + "'");
  return static_cast<std::size_t>(value);
}

// The probes have exactly cold_stream_length events and every other stream
// at least its Opened; with no other stream the probes hold every event.
void check_cold_sizes(options& opts) {
  opts.cold_probes = std::min(opts.cold_probes, opts.cold_streams);
  const auto probe_events = opts.cold_probes * bench::cold_stream_length;
  const auto others = opts.cold_streams - opts.cold_probes;
  const bool fits = others ? opts.cold_events >= probe_events + others : opts.cold_events == probe_events;
  if (opts.selected("cold") && !fits)
    usage_error("--cold-events " + std::to_string(opts.cold_events) + " does not fit " +
                std::to_string(opts.cold_probes) + " streams of " + std::to_string(bench::cold_stream_length) +
                " events and at least one for each of the other " + std::to_string(others));
}

// Only bank and catchup run on PostgreSQL; the other workloads, the SQLite
// ceilings and the other journal choices are refused rather than run on SQLite.
void check_postgres(options& opts) {
  if (opts.postgres_url.empty()) return;
  if (opts.memory) usage_error("--postgres and --memory choose two journals: pass one");
  if (opts.category_copies) usage_error("--category-copies is a SQLite journal setting: not with --postgres");
  if (opts.only.empty())
    usage_error("--postgres runs bank and catchup only: pass --only bank,catchup (or one of them)");
  for (const auto& w : opts.only)
    if (w != "bank" && w != "catchup")
      usage_error("workload '" + w + "' does not run on PostgreSQL: with --postgres, --only takes bank and catchup");
  opts.postgres_run = std::to_string(getpid());
}

options parse_args(int argc, char** argv) {
  options opts;
  std::optional<std::size_t> accounts, deposits, events, window, commands, timeout, aggregates, cap;
  std::optional<std::size_t> cold_events, cold_streams, churn_window;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--json") opts.json = true;
    else if (arg == "--memory") opts.memory = true;
    else if (arg == "--category-copies") opts.category_copies = true;
    else if (arg == "--quick") opts.quick = true;
    else if (arg == "--keep") opts.keep = true;
    else if (arg == "--no-fork") opts.isolate = false;
    else if (arg == "--accounts") accounts = parse_size(arg, value());
    else if (arg == "--deposits") deposits = parse_size(arg, value());
    else if (arg == "--events") events = parse_size(arg, value());
    else if (arg == "--window") window = parse_size(arg, value());
    else if (arg == "--drivers") opts.drivers = parse_size(arg, value());
    else if (arg == "--commands") commands = parse_size(arg, value());
    else if (arg == "--aggregates") aggregates = parse_size(arg, value());
    else if (arg == "--cap") cap = parse_size(arg, value());
    else if (arg == "--cold-events") cold_events = parse_size(arg, value());
    else if (arg == "--cold-streams") cold_streams = parse_size(arg, value());
    else if (arg == "--churn-window") churn_window = parse_size(arg, value());
    else if (arg == "--timeout") timeout = parse_size(arg, value());
    else if (arg == "--dir") opts.dir = value();
    else if (arg == "--postgres") {
      opts.postgres_url = value();
      if (opts.postgres_url.empty()) usage_error("--postgres needs a URL");
    }
    else if (arg == "--sync") {
      auto v = value();
      if (v == "off") opts.sync = interlock::sync_mode::off;
      else if (v == "normal") opts.sync = interlock::sync_mode::normal;
      else if (v == "full") opts.sync = interlock::sync_mode::full;
      else if (v == "extra") opts.sync = interlock::sync_mode::extra;
      else usage_error("--sync takes off, normal, full or extra, got '" + v + "'");
    } else if (arg == "--only") {
      std::string list = value();
      for (std::size_t start = 0; start <= list.size();) {
        auto comma = list.find(',', start);
        auto name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (name != "bank" && name != "latency" && name != "replay" && name != "catchup" && name != "resume" &&
            name != "catchup_durable" && name != "category" && name != "saga" &&
            name != "snapshot" && name != "passivation" && name != "cold" && name != "ceiling")
          usage_error("unknown workload '" + name + "'");
        opts.only.push_back(name);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else {
      usage_error("unknown argument '" + arg + "'");
    }
  }
  if (opts.quick) {
    opts.accounts = 100;
    opts.deposits = 20;
    opts.events = 50'000;
    opts.window = 256;
    opts.commands = 100;
    opts.aggregates = 50'000;
    opts.cap = 5'000;
    opts.cold_events = 200'000;
    opts.cold_streams = 1'000;
    opts.cold_probes = 100;
    opts.churn_commands = 5'000;
    opts.churn_seconds = 5;
    opts.timeout_s = 300;
  }
  if (accounts) opts.accounts = *accounts;
  if (deposits) opts.deposits = *deposits;
  if (events) opts.events = *events;
  if (window) opts.window = *window;
  if (commands) opts.commands = *commands;
  if (aggregates) opts.aggregates = *aggregates;
  if (cap) opts.cap = *cap;
  if (timeout) opts.timeout_s = static_cast<int>(*timeout);
  if (cold_events) opts.cold_events = *cold_events;
  if (cold_streams) opts.cold_streams = *cold_streams;
  if (churn_window) opts.churn_window = *churn_window;
  check_cold_sizes(opts);
  check_postgres(opts);
  return opts;
}

const char* sync_name(interlock::sync_mode m) {
  switch (m) {
    case interlock::sync_mode::off: return "OFF";
    case interlock::sync_mode::normal: return "NORMAL";
    case interlock::sync_mode::full: return "FULL";
    case interlock::sync_mode::extra: return "EXTRA";
  }
  return "?";
}

// -- running one workload in a child process -----------------------------------

std::string describe_status(int status, int timeout_s) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGALRM)
      return "hung: killed after " + std::to_string(timeout_s) + " s (--timeout); see the last lines on stderr";
    return std::string{"crashed: signal "} + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status)) + " without a result";
  return "ended with wait status " + std::to_string(status);
}

result run_one(const options& opts, const std::string& name, const std::function<result()>& body) {
  auto guarded = [&] {
    try {
      return body();
    } catch (const std::exception& e) {
      result r;
      r.workload = name;
      r.error = std::string{"exception: "} + e.what();
      return r;
    }
  };
  if (!opts.isolate) return guarded();
  int fds[2];
  if (pipe(fds) != 0) {
    result r;
    r.workload = name;
    r.error = std::string{"pipe: "} + std::strerror(errno);
    return r;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    result r;
    r.workload = name;
    r.error = std::string{"fork: "} + std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    close(fds[0]);
    alarm(static_cast<unsigned>(opts.timeout_s));
    auto line = bench::to_json_line(guarded()) + "\n";
    for (std::size_t off = 0; off < line.size();) {
      auto n = write(fds[1], line.data() + off, line.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    close(fds[1]);
    std::fflush(stderr);
    _exit(0);  // skip static destructors: the parent owns them
  }
  close(fds[1]);
  std::string line;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    line.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result r;
  r.workload = name;
  r.journal = name.starts_with("ceiling") ? "raw sqlite" : opts.journal_name();
  r.error = describe_status(status, opts.timeout_s);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !line.empty()) {
    try {
      return bench::from_json_line(line);
    } catch (const std::exception& e) {
      r.error = std::string{"unreadable result from the child process: "} + e.what();
    }
  }
  return r;
}

// -- output ---------------------------------------------------------------------

struct printer {
  const options& opts;
  FILE* human;

  void header(const std::string& dir) const {
    std::time_t now = std::time(nullptr);
    char date[64];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
    std::fprintf(human, "interlock-bench  %s\n", date);
    std::fprintf(human, "  build %s%s | %u CPUs | malloc %s | SQLite %s | synchronous=%s | runtime journal: %s | codec %s\n",
                 INTERLOCK_BENCH_BUILD_TYPE,
#ifdef NDEBUG
                 "",
#else
                 " (assertions on)",
#endif
                 std::thread::hardware_concurrency(), bench::malloc_name(), sqlite3_libversion(), sync_name(opts.sync),
                 opts.journal_name().c_str(), BENCH_JSON_CODEC);
    if (!opts.postgres_url.empty())
      std::fprintf(human, "  %s; schemas interlock_bench_%s_*\n", bench::pg::describe_server(opts.postgres_url).c_str(),
                   opts.postgres_run.c_str());
    std::fprintf(human,
                 "  accounts %zu, deposits %zu, events %s, window %zu (%zu drivers), commands %zu, aggregates %s "
                 "(cap %s), cold %s events / %zu streams%s | files in %s\n\n",
                 opts.accounts, opts.deposits, bench::with_commas(static_cast<double>(opts.events)).c_str(),
                 opts.window, opts.driver_count(), opts.commands,
                 bench::with_commas(static_cast<double>(opts.aggregates)).c_str(),
                 bench::with_commas(static_cast<double>(opts.cap)).c_str(),
                 bench::with_commas(static_cast<double>(opts.cold_events)).c_str(), opts.cold_streams,
                 opts.quick ? " (--quick)" : "",
                 dir.c_str());
    std::fprintf(human, "%-23s %-10s %11s %9s %12s %9s %9s %8s  %s\n", "workload", "journal", "events", "seconds",
                 "events/s", "p50 us", "p99 us", "RSS MB", "vs ceiling (same run)");
    std::fprintf(human, "%s\n", std::string(122, '-').c_str());
    std::fflush(human);
  }

  static std::string label(const std::string& workload) {
    if (workload == "ceiling_seq") return "ceiling (a) seq";
    if (workload == "ceiling_interleaved") return "ceiling (b) interleaved";
    if (workload == "ceiling_commit") return "ceiling (c) commit";
    if (workload == "ceiling_read") return "ceiling (d) read";
    if (workload == "passivation_nocap") return "passivation (no cap)";
    if (workload == "ceiling_stream") return "ceiling (e) stream read";
    if (workload == "cold_churn") return "cold churn";
    return workload;
  }

  static std::string number(const std::optional<double>& v, int decimals = 0) {
    if (!v) return "-";
    if (decimals == 0) return bench::with_commas(*v);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
    return buf;
  }

  static std::string ratios(const result& r) {
    char buf[128];
    if (r.workload == "bank" && r.ratio_to_ceiling && r.ceiling == "(a)") {
      std::snprintf(buf, sizeof buf, "%.2fx (a)", *r.ratio_to_ceiling);
      std::string out = buf;
      if (r.ratio_to_interleaved) {
        std::snprintf(buf, sizeof buf, ", %.2fx (b)", *r.ratio_to_interleaved);
        out += buf;
      }
      return out;
    }
    if (r.workload == "latency" && r.ratio_to_ceiling) {
      std::snprintf(buf, sizeof buf, "p50 %.2fx (c) [lower is better]", *r.ratio_to_ceiling);
      return buf;
    }
    auto extra = [&](const char* key) { return r.extra.count(key) ? r.extra.at(key) : 0.0; };
    if (r.workload == "cold") {
      std::snprintf(buf, sizeof buf, "p50 %.1fx (e), %.1fx the small journal's [lower is better]",
                    r.ratio_to_ceiling.value_or(0), extra("ratio_to_small"));
      return buf;
    }
    if (r.workload == "cold_churn") {
      std::snprintf(buf, sizeof buf, "cap %s, %s timeouts, %s errors", bench::with_commas(extra("cap")).c_str(),
                    bench::with_commas(extra("timeouts")).c_str(), bench::with_commas(extra("errors")).c_str());
      return buf;
    }
    if (r.ratio_to_ceiling) {
      std::snprintf(buf, sizeof buf, "%.2fx %s", *r.ratio_to_ceiling, r.ceiling.c_str());
      return buf;
    }
    if (r.workload == "snapshot") {
      std::snprintf(buf, sizeof buf, "recover %.2f ms vs full replay %.1f ms: %.0fx faster", extra("recover_ms"),
                    extra("full_replay_ms"), extra("speedup"));
      return buf;
    }
    if (r.workload == "passivation") {
      std::snprintf(buf, sizeof buf, "cap %s, live max %s", bench::with_commas(extra("cap")).c_str(),
                    bench::with_commas(extra("live_aggregates_max")).c_str());
      std::string out = buf;
      return out;
    }
    if (r.workload == "passivation_nocap") {
      std::snprintf(buf, sizeof buf, "live max %s", bench::with_commas(extra("live_aggregates_max")).c_str());
      std::string out = buf;
      if (r.extra.count("rss_ratio_to_capped")) {
        std::snprintf(buf, sizeof buf, "; RSS %.2fx the capped run's", extra("rss_ratio_to_capped"));
        out += buf;
      }
      return out;
    }
    return "";
  }

  void row(const result& r) const {
    if (!r.error.empty()) {
      std::fprintf(human, "%-23s %-10s ERROR: %s\n", label(r.workload).c_str(), r.journal.c_str(), r.error.c_str());
    } else {
      std::fprintf(human, "%-23s %-10s %11s %9.3f %12s %9s %9s %8s  %s\n", label(r.workload).c_str(),
                   r.journal.c_str(), bench::with_commas(static_cast<double>(r.events)).c_str(), r.seconds,
                   bench::with_commas(r.events_per_s).c_str(), number(r.p50_us).c_str(), number(r.p99_us).c_str(),
                   number(r.peak_rss_mb, 1).c_str(), ratios(r).c_str());
    }
    std::fflush(human);
    if (opts.json) {
      auto with_malloc = r;
      with_malloc.malloc = bench::malloc_name();
      std::printf("%s\n", bench::to_json_line(with_malloc).c_str());
      std::fflush(stdout);
    }
  }

  void details(const std::vector<result>& all) const {
    std::fprintf(human, "\n");
    for (const auto& r : all) {
      std::string extras;
      for (const auto& [key, value] : r.extra) {
        char buf[96];
        if (value == static_cast<double>(static_cast<long long>(value)))
          std::snprintf(buf, sizeof buf, "%s%s=%lld", extras.empty() ? "" : ", ", key.c_str(),
                        static_cast<long long>(value));
        else
          std::snprintf(buf, sizeof buf, "%s%s=%.3f", extras.empty() ? "" : ", ", key.c_str(), value);
        extras += buf;
      }
      if (r.notes.empty() && extras.empty()) continue;
      std::fprintf(human, "  %-24s", label(r.workload).c_str());
      for (std::size_t i = 0; i < r.notes.size(); ++i)
        std::fprintf(human, "%s%s", i ? "; " : "", r.notes[i].c_str());
      if (!extras.empty()) std::fprintf(human, "%s[%s]", r.notes.empty() ? "" : " ", extras.c_str());
      std::fprintf(human, "\n");
    }
  }
};

const result* find(const std::vector<result>& all, const std::string& workload) {
  for (const auto& r : all)
    if (r.workload == workload && r.error.empty()) return &r;
  return nullptr;
}

void add_ratios(result& r, const std::vector<result>& all) {
  if (!r.error.empty() || r.journal == "postgres") return;  // its ceiling ran in its own process
  auto rate_ratio = [&](const char* ceiling) -> std::optional<double> {
    auto* c = find(all, ceiling);
    if (!c || c->events_per_s <= 0) return std::nullopt;
    return r.events_per_s / c->events_per_s;
  };
  if (r.workload == "bank") {
    r.ratio_to_ceiling = rate_ratio("ceiling_seq");
    r.ratio_to_interleaved = rate_ratio("ceiling_interleaved");
    r.ceiling = "(a)";
  } else if (r.workload == "latency") {
    auto* c = find(all, "ceiling_commit");
    if (c && c->p50_us && r.p50_us && *c->p50_us > 0) r.ratio_to_ceiling = *r.p50_us / *c->p50_us;
    if (c && r.p50_us && c->extra.count("busy_cpu_p50_us") && c->extra.at("busy_cpu_p50_us") > 0)
      r.extra["p50_ratio_to_busy_cpu_commit"] = *r.p50_us / c->extra.at("busy_cpu_p50_us");
    r.ceiling = "(c) p50";
  } else if (r.workload == "replay" || r.workload == "catchup") {
    r.ratio_to_ceiling = rate_ratio("ceiling_read");
    r.ceiling = "(d)";
  } else if (r.workload == "cold") {
    auto* c = find(all, "ceiling_stream");
    if (c && c->p50_us && r.p50_us && *c->p50_us > 0) {
      r.ratio_to_ceiling = *r.p50_us / *c->p50_us;
      r.extra["ceiling_p50_us"] = *c->p50_us;
    }
    r.ceiling = "(e) p50";
  } else if (r.workload == "passivation_nocap") {
    auto* capped = find(all, "passivation");
    if (capped && capped->peak_rss_mb && r.peak_rss_mb && *capped->peak_rss_mb > 0)
      r.extra["rss_ratio_to_capped"] = *r.peak_rss_mb / *capped->peak_rss_mb;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto started = bench::clock::now();
  const auto opts = parse_args(argc, argv);

  // -- where the files go ---------------------------------------------------------
  std::string dir = opts.dir;
  bool own_dir = dir.empty();
  if (own_dir) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string{tmp && *tmp ? tmp : "/tmp"} + "/interlock-bench-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::fprintf(stderr, "interlock-bench: cannot create a temp dir %s: %s\n", pattern.c_str(), std::strerror(errno));
      return 1;
    }
    dir = pattern;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      std::fprintf(stderr, "interlock-bench: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
      return 1;
    }
  }

  printer out{opts, opts.json ? stderr : stdout};
  if (!opts.postgres_url.empty()) {
    if (auto err = bench::pg::check_server(opts.postgres_url); !err.empty()) {
      std::fprintf(stderr, "interlock-bench: --postgres: %s\n", err.c_str());
      return 1;
    }
  }
  out.header(dir);

  // -- what runs, in order: each ceiling right before the workloads measured
  // against it (so both see the same machine state) and every row can print its ratio
  const bool all_ceilings = opts.selected("ceiling");
  // On PostgreSQL each workload measures its raw-libpq ceiling itself.
  const bool sqlite_ceilings = opts.postgres_url.empty();
  struct step {
    std::string name;
    bool run;
    result (*fn)(const options&, const std::string&);
  };
  const step steps[] = {
      {"ceiling_seq", all_ceilings || (sqlite_ceilings && opts.selected("bank")), bench::ceiling_sequential},
      {"ceiling_interleaved", all_ceilings || (sqlite_ceilings && opts.selected("bank")), bench::ceiling_interleaved},
      {"bank", opts.selected("bank"), bench::workload_bank},
      {"ceiling_commit", all_ceilings || opts.selected("latency"), bench::ceiling_commit},
      {"latency", opts.selected("latency"), bench::workload_latency},
      {"ceiling_read", all_ceilings || (sqlite_ceilings && (opts.selected("replay") || opts.selected("catchup"))),
       bench::ceiling_read},
      {"replay", opts.selected("replay"), bench::workload_replay},
      {"catchup", opts.selected("catchup"), bench::workload_catchup},
      {"resume", opts.selected("resume"), bench::workload_resume},
      {"catchup_durable", opts.selected("catchup_durable"), bench::workload_catchup_durable},
      {"category", opts.selected("category"), bench::workload_category},
      // its ceiling (the same commands without a saga) runs inside it
      {"saga", opts.selected("saga"), bench::workload_saga},
      {"snapshot", opts.selected("snapshot"), bench::workload_snapshot},
      {"passivation", opts.selected("passivation"), bench::workload_passivation},
      // the comparison for the capped run: every aggregate stays live (GBs at full size)
      {"passivation_nocap", opts.selected("passivation") && !opts.quick, bench::workload_passivation_nocap},
      {"ceiling_stream", all_ceilings || opts.selected("cold"), bench::ceiling_stream},
      {"cold", opts.selected("cold"), bench::workload_cold},
      // on the journal cold leaves behind (it fills its own if there is none)
      {"cold_churn", opts.selected("cold"), bench::workload_cold_churn},
  };
  std::vector<result> results;
  int failures = 0;
  for (const auto& s : steps) {
    if (!s.run) continue;
    auto r = run_one(opts, s.name, [&] { return s.fn(opts, dir); });
    add_ratios(r, results);
    if (!r.error.empty()) ++failures;
    out.row(r);
    results.push_back(std::move(r));
  }
  out.details(results);

  if (!opts.postgres_url.empty() && !opts.keep) {
    if (auto err = bench::pg::drop_run_schemas(opts); !err.empty())
      std::fprintf(stderr, "interlock-bench: dropping this run's schemas: %s\n", err.c_str());
  }
  if (own_dir && !opts.keep) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::fprintf(out.human, "\nwall time %.1f s%s\n", bench::seconds_since(started),
               failures ? (", " + std::to_string(failures) + " workload(s) FAILED").c_str() : "");
  return failures ? 1 : 0;
}
