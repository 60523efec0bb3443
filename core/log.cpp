#include <interlock/core/log.hpp>

#include <atomic>
#include <iostream>
#include <mutex>

namespace interlock {
namespace {

constexpr std::string_view level_names[] = {"quiet", "error", "warning", "info", "debug"};

std::atomic<int> current_level{static_cast<int>(log_level::warning)};

struct sink_holder {
  std::mutex mutex;
  std::function<void(log_level, std::string_view)> sink;
};

sink_holder& holder() {
  static sink_holder h;
  return h;
}

}  // namespace

std::optional<log_level> log_level_from(std::string_view name) {
  for (std::size_t i = 0; i < std::size(level_names); ++i)
    if (level_names[i] == name) return static_cast<log_level>(i);
  return std::nullopt;
}

std::string_view to_string(log_level level) { return level_names[static_cast<int>(level)]; }

void set_log_level(log_level level) { current_level.store(static_cast<int>(level)); }

bool log_enabled(log_level level) {
  return level != log_level::quiet && static_cast<int>(level) <= current_level.load(std::memory_order_relaxed);
}

void set_log_sink(std::function<void(log_level, std::string_view)> sink) {
  std::lock_guard<std::mutex> lock{holder().mutex};
  holder().sink = std::move(sink);
}

void log(log_level level, std::string_view line) {
  if (!log_enabled(level)) return;
  std::lock_guard<std::mutex> lock{holder().mutex};
  if (holder().sink) holder().sink(level, line);
  else std::clog << "interlock " << to_string(level) << ": " << line << '\n';
}

}  // namespace interlock
