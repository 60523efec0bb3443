#include "bench.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string_view>

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace bench {

bool options::selected(const std::string& workload) const {
  return only.empty() || std::find(only.begin(), only.end(), workload) != only.end();
}

namespace {

double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

}  // namespace

std::string to_json_line(const result& r) {
  nlohmann::ordered_json j;
  j["workload"] = r.workload;
  j["journal"] = r.journal;
  if (!r.malloc.empty()) j["malloc"] = r.malloc;
  if (!r.error.empty()) {
    j["error"] = r.error;
  } else {
    j["events"] = r.events;
    j["seconds"] = round_to(r.seconds, 6);
    j["events_per_s"] = round_to(r.events_per_s, 1);
    if (r.p50_us) j["p50_us"] = round_to(*r.p50_us, 1);
    if (r.p99_us) j["p99_us"] = round_to(*r.p99_us, 1);
    if (r.ratio_to_ceiling) j["ratio_to_ceiling"] = round_to(*r.ratio_to_ceiling, 3);
    if (r.ratio_to_interleaved) j["ratio_to_interleaved"] = round_to(*r.ratio_to_interleaved, 3);
    if (!r.ceiling.empty()) j["ceiling"] = r.ceiling;
    for (const auto& [key, value] : r.extra) j[key] = round_to(value, 3);
  }
  if (r.peak_rss_mb) j["peak_rss_mb"] = round_to(*r.peak_rss_mb, 1);
  if (!r.notes.empty()) j["notes"] = r.notes;
  return j.dump();
}

result from_json_line(const std::string& line) {
  auto j = nlohmann::json::parse(line);
  result r;
  r.workload = j.value("workload", "");
  r.journal = j.value("journal", "");
  r.malloc = j.value("malloc", "");
  r.error = j.value("error", "");
  r.events = j.value("events", std::uint64_t{0});
  r.seconds = j.value("seconds", 0.0);
  r.events_per_s = j.value("events_per_s", 0.0);
  auto opt = [&](const char* key, std::optional<double>& out) {
    if (j.contains(key)) out = j[key].get<double>();
  };
  opt("p50_us", r.p50_us);
  opt("p99_us", r.p99_us);
  opt("peak_rss_mb", r.peak_rss_mb);
  opt("ratio_to_ceiling", r.ratio_to_ceiling);
  opt("ratio_to_interleaved", r.ratio_to_interleaved);
  r.ceiling = j.value("ceiling", "");
  static const char* known[] = {"workload",         "journal",  "error",   "events",      "seconds",
                                "events_per_s",     "p50_us",   "p99_us",  "peak_rss_mb", "ratio_to_ceiling",
                                "ratio_to_interleaved", "ceiling", "notes", "malloc"};
  for (auto& [key, value] : j.items())
    if (std::find(std::begin(known), std::end(known), key) == std::end(known) && value.is_number())
      r.extra[key] = value.get<double>();
  if (j.contains("notes")) r.notes = j["notes"].get<std::vector<std::string>>();
  return r;
}

const char* malloc_name() {
  // The library that the process's malloc symbol resolves to (an LD_PRELOADed
  // one wins over the one linked in).
  Dl_info info{};
  if (!::dladdr(::dlsym(RTLD_DEFAULT, "malloc"), &info) || !info.dli_fname) return "unknown";
  const std::string_view file = info.dli_fname;
  for (const char* name : {"tcmalloc", "jemalloc", "mimalloc"})
    if (file.find(name) != std::string_view::npos) return name;
  return file.find("libc.so") != std::string_view::npos ? "glibc" : "unknown";
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

void set_latencies(result& r, std::vector<double> latencies_us) {
  if (latencies_us.empty()) return;
  r.p50_us = percentile(latencies_us, 50);
  r.p99_us = percentile(latencies_us, 99);
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

double current_rss_mb() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  const bool ok = std::fscanf(f, "%llu %llu", &size, &resident) == 2;
  std::fclose(f);
  if (!ok) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

void remove_database(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ignored);
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string with_commas(double value) {
  auto n = static_cast<long long>(std::llround(value));
  bool negative = n < 0;
  auto digits = std::to_string(negative ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

}  // namespace bench
