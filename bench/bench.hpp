// Shared pieces of the benchmark program: options, the result row every
// workload returns, and small helpers (clock, percentiles, RSS, files).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <interlock/persistence/sqlite_journal.hpp>

namespace bench {

struct options {
  bool json = false;
  bool memory = false;                 // in-memory journal for the runtime workloads
  bool quick = false;
  bool isolate = true;                 // each workload in its own child process (--no-fork: off)
  bool keep = false;                   // keep the database files
  std::vector<std::string> only;       // empty: all workloads
  std::size_t accounts = 1'000;
  std::size_t deposits = 100;          // per account
  std::size_t events = 1'000'000;      // replay stream / catch-up journal / read ceiling
  std::size_t window = 2'048;          // bank: commands in flight
  std::size_t drivers = 0;             // bank: driver actors sharing the window (0: one per 256)
  std::size_t commands = 1'000;        // latency and ceiling (c): commands / commits, one at a time
  std::size_t aggregates = 1'000'000;  // passivation: aggregates touched once each
  std::size_t cap = 100'000;           // passivation: max_live_aggregates of the capped run
  std::size_t cold_events = 2'000'000; // cold: the large journal's events
  std::size_t cold_streams = 10'000;   // cold: its streams (cold_churn: the aggregates)
  std::size_t cold_probes = 1'000;     // cold: its streams of exactly cold_stream_length events
  std::size_t churn_window = 64;       // cold_churn: commands in flight
  std::size_t churn_commands = 50'000; // cold_churn: it stops after this many commands ...
  int churn_seconds = 20;              // ... or this many seconds, whichever comes first
  int timeout_s = 1'800;               // a workload running longer is killed and reported as a hang
  std::string dir;                     // where the database files go (default: a new temp dir)
  interlock::sync_mode sync = interlock::sync_mode::full;
  bool category_copies = false;        // SQLite journals keep category copies (what they cost to write)
  std::string postgres_url;            // non-empty: bank and catchup on the PostgreSQL journal there
  std::string postgres_run;            // this run's part of its schema names (postgres_bench.hpp)

  bool selected(const std::string& workload) const;
  std::string journal_name() const {
    if (!postgres_url.empty()) return "postgres";
    return memory ? "memory" : category_copies ? "sqlite+copies" : "sqlite";
  }
  std::size_t driver_count() const { return drivers ? drivers : (window + 255) / 256; }
};

/// One line of the results table (and one JSON object with --json).
struct result {
  std::string workload;
  std::string journal;                 // "sqlite", "memory", or "raw sqlite" for the ceilings
  std::string malloc;                  // the process's malloc (malloc_name())
  std::uint64_t events = 0;
  double seconds = 0;
  double events_per_s = 0;
  std::optional<double> p50_us, p99_us, peak_rss_mb;
  std::optional<double> ratio_to_ceiling;      // against the matching ceiling of this run
  std::optional<double> ratio_to_interleaved;  // bank only: against ceiling (b)
  std::string ceiling;                 // which ceiling the ratio is against, e.g. "(a)"
  std::string error;                   // non-empty: the workload failed; nothing else is meaningful
  std::map<std::string, double> extra; // workload-specific figures (also in the JSON)
  std::vector<std::string> notes;      // human-readable remarks

  void set_rate(std::uint64_t n, double secs) {
    events = n;
    seconds = secs;
    events_per_s = secs > 0 ? static_cast<double>(n) / secs : 0;
  }
};

std::string to_json_line(const result& r);     // one line, no newline
result from_json_line(const std::string& line);

/// Every probe stream of the cold workload has this many events, and so has
/// the stream the (e) ceiling reads.
inline constexpr std::size_t cold_stream_length = 200;

// -- helpers -------------------------------------------------------------------

using clock = std::chrono::steady_clock;
inline double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}
inline double micros_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

/// Nearest-rank percentile (p in 0..100) of `values` (sorted in place).
double percentile(std::vector<double>& values, double p);
/// Sets r.p50_us / r.p99_us from latencies in microseconds.
void set_latencies(result& r, std::vector<double> latencies_us);

/// Peak resident set size of this process, MB (getrusage ru_maxrss).
double peak_rss_mb();
// The malloc this process runs with: "tcmalloc", "jemalloc", "mimalloc" or
// "glibc" (linked in by cmake/InterlockAllocator.cmake, or LD_PRELOADed).
const char* malloc_name();
/// CPU time (user + system) this process has used so far, all threads, in
/// seconds. Differences of it are steadier than wall-clock rates on a busy VM.
double process_cpu_seconds();
/// Current resident set size of this process, MB (/proc/self/statm; 0 if unreadable).
double current_rss_mb();

/// Removes a SQLite database file and its -wal / -shm companions.
void remove_database(const std::string& path);

/// Microseconds since the Unix epoch (recorded_at of the ceiling rows).
std::int64_t now_us();

std::string with_commas(double value);   // 1234567.8 -> "1,234,568"

// -- the workloads (each returns its row; errors go into result::error) --------
//
// `dir` is where the workload creates its database files; it removes them
// unless opts.keep.

result ceiling_sequential(const options& opts, const std::string& dir);   // (a)
result ceiling_interleaved(const options& opts, const std::string& dir);  // (b)
result ceiling_commit(const options& opts, const std::string& dir);       // (c)
result ceiling_read(const options& opts, const std::string& dir);         // (d)
result ceiling_stream(const options& opts, const std::string& dir);       // (e)
result workload_bank(const options& opts, const std::string& dir);
result workload_latency(const options& opts, const std::string& dir);
result workload_replay(const options& opts, const std::string& dir);
result workload_catchup(const options& opts, const std::string& dir);
result workload_resume(const options& opts, const std::string& dir);
result workload_catchup_durable(const options& opts, const std::string& dir);
result workload_category(const options& opts, const std::string& dir);
result workload_saga(const options& opts, const std::string& dir);
result workload_snapshot(const options& opts, const std::string& dir);
result workload_passivation(const options& opts, const std::string& dir);        // cap opts.cap
result workload_passivation_nocap(const options& opts, const std::string& dir);  // no cap
result workload_cold(const options& opts, const std::string& dir);
result workload_cold_churn(const options& opts, const std::string& dir);

}  // namespace bench
