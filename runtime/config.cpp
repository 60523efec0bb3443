#include <interlock/runtime/config.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include <interlock/core/errors.hpp>

namespace interlock {

namespace {

// ---------------------------------------------------------------- values

std::string_view trim(std::string_view s) {
  const char* blank = " \t\r\n\f\v";
  auto first = s.find_first_not_of(blank);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(blank) - first + 1);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits only: from_chars alone would accept "12abc" (stopping early), and a
// '-' must not wrap around into a huge unsigned value.
template <class T>
std::string parse_whole(std::string_view text, T min, T& out) {
  auto expected = "expected a whole number >= " + std::to_string(min);
  if (!all_digits(text)) return expected;
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range)
    return "too large (at most " + std::to_string(std::numeric_limits<T>::max()) + ")";
  if (ec != std::errc{} || end != text.data() + text.size()) return expected;
  if (value < min) return expected;
  out = value;
  return {};
}

struct duration_unit {
  std::string_view name;
  std::int64_t micros;
};

// Largest first: format picks the largest unit that represents a value exactly.
constexpr duration_unit duration_units[] = {{"min", 60'000'000}, {"s", 1'000'000}, {"ms", 1'000}, {"us", 1}};
constexpr std::string_view duration_expected = "expected a whole number with a unit: us, ms, s, min";

const duration_unit* find_unit(std::string_view name) {
  for (auto& u : duration_units)
    if (u.name == name) return &u;
  return nullptr;
}

const char* unit_word(std::int64_t tick_micros) { return tick_micros == 1 ? "microseconds" : "milliseconds"; }

// `count` of `unit` in ticks of `tick_micros` microseconds. Every unit is a
// multiple of every smaller one, so the division either way is exact or the
// value is not representable (1500us as milliseconds): an error, not rounding.
std::string to_ticks(std::int64_t count, const duration_unit& unit, std::int64_t tick_micros, std::int64_t& ticks) {
  if (unit.micros >= tick_micros) {
    auto factor = unit.micros / tick_micros;
    if (count > std::numeric_limits<std::int64_t>::max() / factor) return "too large";
    ticks = count * factor;
    return {};
  }
  auto divisor = tick_micros / unit.micros;
  if (count % divisor != 0) return "not a whole number of " + std::string{unit_word(tick_micros)};
  ticks = count / divisor;
  return {};
}

// "250ms", "5 min": a whole number, optional blanks, a unit. A bare number is an
// error, since its unit would be a guess.
std::string parse_duration(std::string_view text, std::int64_t tick_micros, std::int64_t min_ticks,
                           std::int64_t& out) {
  auto digits_end = std::find_if(text.begin(), text.end(), [](char c) { return c < '0' || c > '9'; });
  auto number = text.substr(0, static_cast<std::size_t>(digits_end - text.begin()));
  auto unit_name = trim(text.substr(number.size()));
  if (number.empty()) return std::string{duration_expected};
  auto unit = find_unit(unit_name);
  bool word = std::all_of(unit_name.begin(), unit_name.end(), [](unsigned char c) { return std::isalpha(c) != 0; });
  if (!unit && (unit_name.empty() || !word)) return std::string{duration_expected};  // "5", "1.5s"
  if (!unit) return "unknown unit '" + std::string{unit_name} + "': " + std::string{duration_expected};
  std::int64_t count = 0, ticks = 0;
  if (auto problem = parse_whole<std::int64_t>(number, 0, count); !problem.empty()) return problem;
  if (auto problem = to_ticks(count, *unit, tick_micros, ticks); !problem.empty()) return problem;
  if (ticks < min_ticks) return "expected a duration > 0";
  out = ticks;
  return {};
}

std::string format_duration(std::int64_t ticks, std::int64_t tick_micros) {
  for (auto& u : duration_units) {
    if (u.micros < tick_micros) break;
    auto factor = u.micros / tick_micros;
    // Zero reads best in the field's own unit ("0ms", not "0min").
    if (ticks == 0 ? u.micros == tick_micros : ticks % factor == 0)
      return std::to_string(ticks / factor) + std::string{u.name};
  }
  return std::to_string(ticks) + "?";  // unreachable: the tick unit itself always divides
}

// Strings are written quoted so that '#' and blanks survive a round trip.
std::string quote(const std::string& s) { return '"' + s + '"'; }

std::string joined(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string{n};
  return out;
}

// ---------------------------------------------------------------- the options
// Each kind of option is a pair of functions over a runtime_settings member,
// made from templates so that the table below stays one entry per option.

template <auto M, std::uint64_t Min>
std::string parse_count_field(std::string_view v, runtime_settings& s) {
  using T = std::remove_reference_t<decltype(s.*M)>;
  return parse_whole<T>(v, static_cast<T>(Min), s.*M);
}
template <auto M>
std::string format_count_field(const runtime_settings& s) {
  return std::to_string(s.*M);
}

template <auto M>
std::int64_t tick_micros() {
  using D = std::remove_cvref_t<decltype(std::declval<runtime_settings&>().*M)>;
  return std::chrono::duration_cast<std::chrono::microseconds>(D{1}).count();
}
template <auto M, std::int64_t MinTicks>
std::string parse_duration_field(std::string_view v, runtime_settings& s) {
  std::int64_t ticks = 0;
  auto problem = parse_duration(v, tick_micros<M>(), MinTicks, ticks);
  if (problem.empty()) s.*M = std::remove_reference_t<decltype(s.*M)>{ticks};
  return problem;
}
template <auto M>
std::string format_duration_field(const runtime_settings& s) {
  return format_duration((s.*M).count(), tick_micros<M>());
}

std::string parse_path(std::string_view v, runtime_settings& s) {
  s.database_path = std::string{v};  // emptiness depends on in_memory: check_settings
  return {};
}
std::string format_path(const runtime_settings& s) { return quote(s.database_path); }

std::string parse_in_memory(std::string_view v, runtime_settings& s) {
  if (v != "true" && v != "false") return "expected true or false";
  s.in_memory = v == "true";
  return {};
}
std::string format_in_memory(const runtime_settings& s) { return s.in_memory ? "true" : "false"; }

constexpr std::pair<std::string_view, sync_mode> sync_modes[] = {
    {"off", sync_mode::off}, {"normal", sync_mode::normal}, {"full", sync_mode::full}, {"extra", sync_mode::extra}};

std::string parse_sync(std::string_view v, runtime_settings& s) {
  for (auto& [name, mode] : sync_modes)
    if (name == v) {
      s.synchronous = mode;
      return {};
    }
  return "expected one of " + joined({"off", "normal", "full", "extra"});
}
std::string format_sync(const runtime_settings& s) {
  for (auto& [name, mode] : sync_modes)
    if (mode == s.synchronous) return std::string{name};
  return "?";
}

constexpr std::string_view log_levels[] = {"quiet", "error", "warning", "info", "debug"};

std::string parse_log_level(std::string_view v, runtime_settings& s) {
  if (std::find(std::begin(log_levels), std::end(log_levels), v) == std::end(log_levels))
    return "expected one of " + joined({"quiet", "error", "warning", "info", "debug"});
  s.log_level = std::string{v};
  return {};
}
std::string format_log_level(const runtime_settings& s) { return s.log_level; }

template <auto M, std::uint64_t Min>
config_option count_option(std::string_view key, std::string_view field, std::string_view doc) {
  return {key, field, Min == 0 ? "a whole number >= 0" : "a whole number >= 1", doc, &format_count_field<M>,
          &parse_count_field<M, Min>};
}

template <auto M, std::int64_t MinTicks>
config_option duration_option(std::string_view key, std::string_view field, std::string_view doc) {
  std::string_view accepts = MinTicks == 0 ? "a duration with a unit: us, ms, s, min"
                                           : "a duration > 0 with a unit: us, ms, s, min";
  return {key, field, accepts, doc, &format_duration_field<M>, &parse_duration_field<M, MinTicks>};
}

using rs = runtime_settings;

std::vector<config_option> make_options() {
  return {
      {"journal.database_path", "database_path", "a file path (quote it if it contains '#')",
       "the SQLite journal file; its folder is created. May be empty only in memory", &format_path, &parse_path},
      {"journal.in_memory", "in_memory", "true or false",
       "true: keep the journal in memory, nothing survives the process (tests, demos)", &format_in_memory,
       &parse_in_memory},
      {"journal.synchronous", "synchronous", "one of off, normal, full, extra",
       "SQLite synchronous mode; full: a committed append survives power loss", &format_sync, &parse_sync},
      count_option<&rs::max_batch, 1>("journal.max_batch", "max_batch",
                                      "appends committed in one transaction, at most"),
      duration_option<&rs::group_commit_wait, 0>("journal.group_commit_wait", "group_commit_wait",
                                                 "how long the first append of a batch waits for more; 0us: no wait"),
      count_option<&rs::read_batch, 1>("journal.read_batch", "read_batch",
                                       "events read at a time during recovery and catch-up"),
      duration_option<&rs::journal_timeout, 1>("journal.timeout", "journal_timeout",
                                               "how long a read of the journal may take (recovery, catch-up); appends always get their answer"),
      count_option<&rs::client_window, 1>("client.window", "client_window",
                                          "commands in flight from the application's client actor, at most"),
      count_option<&rs::snapshot_every, 0>("aggregates.snapshot_every", "snapshot_every",
                                           "events between snapshots; 0: no snapshots"),
      count_option<&rs::snapshot_keep, 1>("aggregates.snapshot_keep", "snapshot_keep",
                                          "snapshots kept per stream (the newest)"),
      duration_option<&rs::passivate_after, 0>("aggregates.passivate_after", "passivate_after",
                                               "an aggregate idle this long stops; 0ms: never"),
      count_option<&rs::max_live_aggregates, 0>("aggregates.max_live", "max_live_aggregates",
                                                "live aggregate actors, at most (least recently used stop); 0: no cap"),
      count_option<&rs::conflict_retries, 0>("aggregates.conflict_retries", "conflict_retries",
                                             "times a command whose append conflicted (another writer) is reloaded and rerun"),
      {"log.level", "log_level", "one of quiet, error, warning, info, debug", "how much the runtime logs; not set: the level the program gave set_log_level() (warning unless it called it)",
       &format_log_level, &parse_log_level},
  };
}

// A new runtime_settings member breaks this binding's count and so the build:
// give the member an option in make_options() (and config/interlock.conf,
// config/README.md), then add a name here.
[[maybe_unused]] void every_field_has_an_option(const runtime_settings& s) {
  [[maybe_unused]] auto& [path, sync, memory, max_batch, wait, read_batch, timeout, window, snap_every, snap_keep,
                          passivate, max_live, retries, level] = s;
}

// Sections the format knows. [node] is reserved for the node settings to come:
// accepted as a header so that its keys report "unknown key node.x".
std::vector<std::string_view> section_names() {
  std::vector<std::string_view> out;
  for (auto& o : config_options()) {
    auto section = o.key.substr(0, o.key.find('.'));
    if (std::find(out.begin(), out.end(), section) == out.end()) out.push_back(section);
  }
  out.push_back("node");
  return out;
}

std::string_view section_of(std::string_view key) { return key.substr(0, key.find('.')); }
std::string_view name_of(std::string_view key) {
  auto dot = key.find('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

const config_option* find_option(std::string_view key) {
  for (auto& o : config_options())
    if (o.key == key) return &o;
  return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      auto above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// A typo or a key in the wrong section: worth a "did you mean".
std::string suggestion_for(std::string_view key) {
  for (auto& o : config_options())
    if (name_of(o.key) == name_of(key)) return " (did you mean " + std::string{o.key} + "?)";
  for (auto& o : config_options())
    if (edit_distance(o.key, key) <= 2) return " (did you mean " + std::string{o.key} + "?)";
  if (section_of(key) == "node") return " ([node] is reserved for the node settings; none exist yet)";
  return {};
}

caf::error config_error(const std::string& source, std::string what) {
  return make_error(errc::invalid_argument, source + ": " + std::move(what));
}

// ---------------------------------------------------------------- the file format

// The value after '=': "quoted" (may hold '#') or bare up to a '#' comment.
caf::expected<std::string_view> value_of(std::string_view rest, const std::string& where) {
  rest = trim(rest);
  if (rest.empty() || rest.front() != '"') return trim(rest.substr(0, rest.find('#')));
  auto close = rest.find('"', 1);
  if (close == std::string_view::npos) return config_error(where, "unterminated quote in value " + std::string{rest});
  auto after = trim(rest.substr(close + 1));
  if (!after.empty() && after.front() != '#')
    return config_error(where, "unexpected text '" + std::string{after} + "' after the closing quote");
  return rest.substr(1, close - 1);
}

// "[journal]  # comment" -> "journal"
caf::expected<std::string> section_header(std::string_view line, const std::string& where) {
  auto close = line.find(']');
  if (close == std::string_view::npos) return config_error(where, "missing ']' in section header " + std::string{line});
  auto after = trim(line.substr(close + 1));
  if (!after.empty() && after.front() != '#')
    return config_error(where, "unexpected text '" + std::string{after} + "' after the section header");
  auto name = trim(line.substr(1, close - 1));
  auto known = section_names();
  if (std::find(known.begin(), known.end(), name) != known.end()) return std::string{name};
  std::string list;
  for (auto k : known) list += (list.empty() ? "" : ", ") + ("[" + std::string{k} + "]");
  return config_error(where, "unknown section [" + std::string{name} + "] (sections: " + list + ")");
}

// The state of one pass over a file: the section we are in and the keys seen.
struct file_reader {
  const std::string& source;
  runtime_settings& s;
  std::string section;
  std::map<std::string, std::size_t, std::less<>> seen;  // key -> line that set it

  caf::error line(std::string_view text, std::size_t number) {
    auto where = source + ":" + std::to_string(number);
    text = trim(text);
    if (text.empty() || text.front() == '#') return {};
    if (text.front() == '[') {
      auto name = section_header(text, where);
      if (!name) return std::move(name.error());
      section = std::move(*name);
      return {};
    }
    return assignment(text, number, where);
  }

  caf::error assignment(std::string_view text, std::size_t number, const std::string& where) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
      return config_error(where, "missing '=' in '" + std::string{text} + "' (expected KEY = VALUE)");
    auto name = trim(text.substr(0, eq));
    if (name.empty()) return config_error(where, "missing key before '='");
    if (section.empty())
      return config_error(where, "key " + std::string{name} + " comes before any [section] header");
    auto key = section + "." + std::string{name};
    auto [it, fresh] = seen.emplace(key, number);
    if (!fresh)
      return config_error(where, "duplicate key " + key + " (first set on line " + std::to_string(it->second) + ")");
    auto value = value_of(text.substr(eq + 1), where);
    if (!value) return std::move(value.error());
    return apply_config_option(key, *value, where, s);
  }
};

caf::expected<std::string> read_file(const std::string& path) {
  auto fail = [&] {
    return make_error(errc::invalid_argument, "cannot read config file " + path + ": " + std::strerror(errno));
  };
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail();
  std::string text;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  bool failed = std::ferror(f);  // e.g. EISDIR: fopen opens a directory on Linux
  std::fclose(f);
  if (failed) return fail();
  return text;
}

// ---------------------------------------------------------------- the command line

struct command_line {
  std::optional<std::string> config_path;
  std::vector<std::pair<std::string, std::string>> overrides;  // key, value
  std::vector<std::string> rest;
};

constexpr std::string_view override_prefix = "--interlock.";

caf::error read_config_flag(int argc, const char* const* argv, int& i, command_line& out) {
  std::string_view arg = argv[i];
  if (out.config_path) return config_error("command line", "--config given twice");
  if (arg == "--config") {
    if (i + 1 >= argc) return config_error("command line", "--config needs a file name");
    out.config_path = argv[++i];
  } else {
    out.config_path = std::string{arg.substr(std::string_view{"--config="}.size())};
  }
  if (out.config_path->empty()) return config_error("command line", "--config needs a file name");
  return {};
}

caf::error read_override(std::string_view arg, command_line& out) {
  auto eq = arg.find('=');
  if (eq == std::string_view::npos)
    return config_error("command line", "expected " + std::string{arg} + "=VALUE (--interlock.SECTION.KEY=VALUE)");
  auto key = std::string{arg.substr(override_prefix.size(), eq - override_prefix.size())};
  for (auto& [k, v] : out.overrides)
    if (k == key) return config_error("command line", "--interlock." + key + " given twice");
  out.overrides.emplace_back(std::move(key), std::string{arg.substr(eq + 1)});
  return {};
}

// Sorts the arguments first, so that --config applies before every override
// wherever it appears.
caf::expected<command_line> split_command_line(int argc, const char* const* argv) {
  command_line out;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    caf::error err;
    if (arg == "--") {
      out.rest.insert(out.rest.end(), argv + i, argv + argc);  // the program's own, untouched
      break;
    } else if (arg == "--config" || arg.starts_with("--config=")) {
      err = read_config_flag(argc, argv, i, out);
    } else if (arg.starts_with(override_prefix)) {
      err = read_override(arg, out);
    } else {
      out.rest.emplace_back(arg);
    }
    if (err) return err;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- the API

const std::vector<config_option>& config_options() {
  static const std::vector<config_option> options = make_options();
  return options;
}

std::string config_help() {
  runtime_settings defaults;
  std::string out = "Settings (in a file: --config=FILE, one at a time: --interlock.KEY=VALUE):\n";
  for (auto& o : config_options()) {
    const auto value = o.format(defaults);
    out += "  " + std::string{o.key} + " = " + (value.empty() ? "(not set)" : value) + "\n";
    out += "      " + std::string{o.doc} + " (" + std::string{o.accepts} + ")\n";
  }
  return out;
}

std::string to_config_text(const runtime_settings& s) {
  std::string out, section;
  for (auto& o : config_options()) {
    if (section_of(o.key) != section) {
      section = std::string{section_of(o.key)};
      out += (out.empty() ? "[" : "\n[") + section + "]\n";
    }
    if (auto value = o.format(s); !value.empty()) out += std::string{name_of(o.key)} + " = " + value + "\n";
  }
  return out;
}

caf::error apply_config_option(std::string_view key, std::string_view value, const std::string& source,
                               runtime_settings& s) {
  auto option = find_option(key);
  if (!option) return config_error(source, "unknown key " + std::string{key} + suggestion_for(key));
  auto updated = s;  // parse writes only on success, but keep the promise explicit
  auto problem = option->parse(value, updated);
  if (!problem.empty())
    return config_error(source, "bad value '" + std::string{value} + "' for " + std::string{key} + ": " + problem);
  s = std::move(updated);
  return {};
}

caf::error apply_config_text(std::string_view text, const std::string& source, runtime_settings& s) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark some editors write
  auto updated = s;
  file_reader reader{source, updated, {}, {}};
  std::size_t number = 0;
  while (!text.empty() || number == 0) {
    auto end = text.find('\n');
    if (auto err = reader.line(text.substr(0, end), ++number)) return err;
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  s = std::move(updated);
  return {};
}

caf::error check_settings(const runtime_settings& s, const std::string& source) {
  if (!s.in_memory && s.database_path.empty())
    return config_error(source, "journal.database_path is empty: give a file, or set journal.in_memory = true");
  return {};
}

caf::expected<runtime_settings> load_config_file(const std::string& path, runtime_settings base) {
  auto text = read_file(path);
  if (!text) return std::move(text.error());
  if (auto err = apply_config_text(*text, path, base)) return err;
  if (auto err = check_settings(base, path)) return err;
  return base;
}

caf::expected<std::vector<std::string>> apply_command_line(int argc, const char* const* argv, runtime_settings& s) {
  auto args = split_command_line(argc, argv);
  if (!args) return std::move(args.error());
  auto updated = s;
  if (args->config_path) {
    auto text = read_file(*args->config_path);
    if (!text) return std::move(text.error());
    if (auto err = apply_config_text(*text, *args->config_path, updated)) return err;
  }
  for (auto& [key, value] : args->overrides)
    if (auto err = apply_config_option(key, value, "command line (--interlock." + key + ")", updated)) return err;
  auto source = args->overrides.empty() && args->config_path ? *args->config_path : std::string{"command line"};
  if (auto err = check_settings(updated, source)) return err;
  s = std::move(updated);
  return std::move(args->rest);
}

}  // namespace interlock
