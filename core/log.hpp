// The runtime's log: one process-wide level and sink. The runtime logs what
// an operator should know about (a snapshot it could not use, a passivated
// aggregate at debug level, the logging middleware's lines); it never logs on
// the hot path below `info`.
//
//   interlock::set_log_sink([](interlock::log_level l, std::string_view line) { ... });
#pragma once

#include <functional>
#include <optional>
#include <string_view>

namespace interlock {

enum class log_level { quiet, error, warning, info, debug };

/// "quiet" | "error" | "warning" | "info" | "debug"; nullopt for anything else.
std::optional<log_level> log_level_from(std::string_view name);
std::string_view to_string(log_level level);

/// Lines at `level` or more severe are written; the builder sets it from
/// runtime_settings::log_level. Default: warning.
void set_log_level(log_level level);
bool log_enabled(log_level level);

/// Where lines go (default: std::clog as "interlock <level>: <line>");
/// nullptr restores the default. The sink may be called from any thread, one
/// call at a time.
void set_log_sink(std::function<void(log_level, std::string_view)> sink);

/// Writes `line` if `level` is enabled.
void log(log_level level, std::string_view line);

}  // namespace interlock
