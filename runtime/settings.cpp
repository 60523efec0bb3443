#include <interlock/runtime/settings.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <string_view>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/config_option.hpp>
#include <caf/config_value.hpp>
#include <caf/pec.hpp>
#include <caf/sec.hpp>

#include <interlock/core/errors.hpp>

namespace interlock {

namespace {

// ---------------------------------------------------------------- values
// CAF's INI parser types what it reads (1024, 30s, true, "text", 'word'); the
// command line hands over text. Both arrive here as text, so one parser per
// kind of value checks both and names the key in its errors.

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
  if (ec != std::errc{} || end != text.data() + text.size() || value < min) return expected;
  out = value;
  return {};
}

struct duration_unit {
  std::string_view name;
  std::int64_t nanos;
};

// Largest first: formatting picks the largest unit that represents a value exactly.
constexpr duration_unit duration_units[] = {{"h", 3'600'000'000'000},
                                            {"min", 60'000'000'000},
                                            {"s", 1'000'000'000},
                                            {"ms", 1'000'000},
                                            {"us", 1'000},
                                            {"ns", 1}};
constexpr std::string_view duration_expected = "expected a whole number with a unit: us, ms, s, min, h";

const duration_unit* find_unit(std::string_view name) {
  for (auto& u : duration_units)
    if (u.name == name) return &u;
  return nullptr;
}

std::string format_duration(std::int64_t ticks, std::int64_t tick_nanos) {
  for (auto& u : duration_units) {
    if (u.nanos < tick_nanos) break;
    auto factor = u.nanos / tick_nanos;
    // Zero reads best in the field's own unit ("0ms", not "0h").
    if (ticks == 0 ? u.nanos == tick_nanos : ticks % factor == 0)
      return std::to_string(ticks / factor) + std::string{u.name};
  }
  return std::to_string(ticks) + "?";  // unreachable: the tick unit itself always divides
}

// "250ms": a whole number and a unit. A bare number is an error, since its
// unit would be a guess; a value finer than the field (1500us as
// milliseconds) is an error, not a rounding.
std::string parse_duration(std::string_view text, std::int64_t tick_nanos, std::int64_t min_ticks, std::int64_t& out) {
  auto digits = static_cast<std::size_t>(
      std::find_if(text.begin(), text.end(), [](char c) { return c < '0' || c > '9'; }) - text.begin());
  auto unit = find_unit(text.substr(digits));
  if (digits == 0 || !unit) return std::string{duration_expected};
  std::int64_t count = 0;
  if (auto problem = parse_whole<std::int64_t>(text.substr(0, digits), 0, count); !problem.empty()) return problem;
  std::int64_t ticks = 0;
  if (unit->nanos >= tick_nanos) {
    auto factor = unit->nanos / tick_nanos;
    if (count > std::numeric_limits<std::int64_t>::max() / factor) return "too large";
    ticks = count * factor;
  } else if (count % (tick_nanos / unit->nanos) != 0) {
    return "not a whole number of " + std::string{tick_nanos == 1'000 ? "microseconds" : "milliseconds"};
  } else {
    ticks = count / (tick_nanos / unit->nanos);
  }
  if (ticks < min_ticks) return "expected a duration > 0";
  out = ticks;
  return {};
}

std::string joined(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) out.append(out.empty() ? "" : ", ").append(n);
  return out;
}

// ---------------------------------------------------------------- the options
// Each kind of option is a pair of functions over a runtime_settings member,
// made from templates so that the table below stays one entry per option.

struct option {
  std::string_view key;      // SECTION.KEY below "interlock": [interlock.journal] max_batch = ...
  std::string_view accepts;  // what a good value looks like, shown in --long-help
  std::string_view doc;      // one line
  std::string (*format)(const runtime_settings& s);                      // the value as INI text
  std::string (*parse)(std::string_view value, runtime_settings& s);    // "" or what was wrong
};

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
std::int64_t tick_nanos() {
  using D = std::remove_cvref_t<decltype(std::declval<runtime_settings&>().*M)>;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(D{1}).count();
}
template <auto M, std::int64_t MinTicks>
std::string parse_duration_field(std::string_view v, runtime_settings& s) {
  std::int64_t ticks = 0;
  auto problem = parse_duration(v, tick_nanos<M>(), MinTicks, ticks);
  if (problem.empty()) s.*M = std::remove_reference_t<decltype(s.*M)>{ticks};
  return problem;
}
template <auto M>
std::string format_duration_field(const runtime_settings& s) {
  return format_duration((s.*M).count(), tick_nanos<M>());
}

std::string parse_path(std::string_view v, runtime_settings& s) {
  s.database_path = std::string{v};  // emptiness depends on in_memory: check_settings
  return {};
}
std::string format_path(const runtime_settings& s) { return std::string{"\""}.append(s.database_path).append("\""); }

std::string parse_postgres_url(std::string_view v, runtime_settings& s) {
  s.postgres_url = std::string{v};
  return {};
}
std::string format_postgres_url(const runtime_settings& s) {
  return std::string{"\""}.append(s.postgres_url).append("\"");
}

std::string parse_postgres_schema(std::string_view v, runtime_settings& s) {
  if (v.empty() || v.size() > 63 || (v[0] >= '0' && v[0] <= '9') ||
      v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string_view::npos)
    return "expected a lowercase SQL identifier (a-z, 0-9, _; at most 63 bytes)";
  s.postgres_schema = std::string{v};
  return {};
}
std::string format_postgres_schema(const runtime_settings& s) {
  return std::string{"\""}.append(s.postgres_schema).append("\"");
}

std::string parse_read_store_path(std::string_view v, runtime_settings& s) {
  s.read_store_path = std::string{v};
  return {};
}
std::string format_read_store_path(const runtime_settings& s) {
  return std::string{"\""}.append(s.read_store_path).append("\"");
}

std::string parse_read_store_in_memory(std::string_view v, runtime_settings& s) {
  if (v != "true" && v != "false") return "expected true or false";
  s.read_store_in_memory = v == "true";
  return {};
}
std::string format_read_store_in_memory(const runtime_settings& s) { return s.read_store_in_memory ? "true" : "false"; }

std::string parse_read_store_postgres_schema(std::string_view v, runtime_settings& s) {
  if (!v.empty() && (v.size() > 63 || (v[0] >= '0' && v[0] <= '9') ||
                     v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string_view::npos))
    return "expected a lowercase SQL identifier (a-z, 0-9, _; at most 63 bytes), or \"\"";
  s.read_store_postgres_schema = std::string{v};
  return {};
}
std::string format_read_store_postgres_schema(const runtime_settings& s) {
  return std::string{"\""}.append(s.read_store_postgres_schema).append("\"");
}

std::string parse_in_memory(std::string_view v, runtime_settings& s) {
  if (v != "true" && v != "false") return "expected true or false";
  s.in_memory = v == "true";
  return {};
}
std::string format_in_memory(const runtime_settings& s) { return s.in_memory ? "true" : "false"; }

std::string parse_category_copies(std::string_view v, runtime_settings& s) {
  if (v != "true" && v != "false") return "expected true or false";
  s.category_copies = v == "true";
  return {};
}
std::string format_category_copies(const runtime_settings& s) { return s.category_copies ? "true" : "false"; }

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
    if (mode == s.synchronous) return std::string{"\""}.append(name).append("\"");
  return "?";
}

constexpr std::string_view log_levels[] = {"quiet", "error", "warning", "info", "debug"};

std::string parse_log_level(std::string_view v, runtime_settings& s) {
  if (!v.empty() && std::find(std::begin(log_levels), std::end(log_levels), v) == std::end(log_levels))
    return "expected one of " + joined({"quiet", "error", "warning", "info", "debug"}) + ", or \"\"";
  s.log_level = std::string{v};
  return {};
}
std::string format_log_level(const runtime_settings& s) { return std::string{"\""}.append(s.log_level).append("\""); }

template <auto M, std::uint64_t Min>
option count_option(std::string_view key, std::string_view doc) {
  return {key, Min == 0 ? "whole number" : "whole number >= 1", doc, &format_count_field<M>,
          &parse_count_field<M, Min>};
}

template <auto M, std::int64_t MinTicks>
option duration_option(std::string_view key, std::string_view doc) {
  return {key, MinTicks == 0 ? "duration" : "duration > 0", doc, &format_duration_field<M>,
          &parse_duration_field<M, MinTicks>};
}

using rs = runtime_settings;

std::vector<option> make_options() {
  return {
      {"journal.database_path", "string", "the SQLite journal file; its folder is created", &format_path, &parse_path},
      {"journal.in_memory", "true|false", "true: the journal in memory, nothing survives the process",
       &format_in_memory, &parse_in_memory},
      {"journal.postgres_url", "string",
       "a PostgreSQL connection URL: the journal on that server; \"\": the SQLite file", &format_postgres_url,
       &parse_postgres_url},
      {"journal.postgres_schema", "string", "the schema of the PostgreSQL journal's tables", &format_postgres_schema,
       &parse_postgres_schema},
      {"journal.synchronous", "off|normal|full|extra", "SQLite's synchronous mode; full: commits survive power loss",
       &format_sync, &parse_sync},
      {"journal.category_copies", "true|false",
       "true: also store the events clustered by type, so reads filtered by type cost what they return; "
       "twice the space; stays on for the file",
       &format_category_copies, &parse_category_copies},
      count_option<&rs::max_batch, 1>("journal.max_batch", "appends committed in one transaction, at most"),
      duration_option<&rs::group_commit_wait, 0>("journal.group_commit_wait",
                                                 "how long the first append of a batch waits for more; 0us: no wait"),
      count_option<&rs::read_batch, 1>("journal.read_batch", "events read at a time during recovery and catch-up"),
      duration_option<&rs::journal_timeout, 1>("journal.timeout",
                                               "how long a journal read may take (recovery, catch-up)"),
      duration_option<&rs::follow_poll, 0>("journal.follow_poll",
                                           "how long other processes' appends may go unseen by this one's "
                                           "projections, at most; 0ms: not followed"),
      count_option<&rs::client_window, 1>("client.window", "commands in flight from the application's client actor"),
      count_option<&rs::snapshot_every, 0>("aggregates.snapshot_every", "events between snapshots; 0: no snapshots"),
      count_option<&rs::snapshot_keep, 1>("aggregates.snapshot_keep", "snapshots kept per stream (the newest)"),
      duration_option<&rs::passivate_after, 0>("aggregates.passivate_after",
                                               "an aggregate idle this long stops; 0ms: never"),
      count_option<&rs::max_live_aggregates, 0>("aggregates.max_live",
                                                "live aggregate actors, at most (least recently used stop); 0: no cap"),
      count_option<&rs::conflict_retries, 0>("aggregates.conflict_retries",
                                             "reruns of a command whose append conflicted with another writer"),
      {"read_side.database_path", "string",
       "the read store (projections' checkpoints and snapshots); \"\": beside the journal, x.db -> x.read.db",
       &format_read_store_path, &parse_read_store_path},
      {"read_side.in_memory", "true|false",
       "true: the read store in memory, whatever the journal (durable read models start again at each run)",
       &format_read_store_in_memory, &parse_read_store_in_memory},
      {"read_side.postgres_schema", "string",
       "with a PostgreSQL journal: the read store's schema on its server; \"\": the journal's schema + \"_read\"",
       &format_read_store_postgres_schema, &parse_read_store_postgres_schema},
      {"log.level", "quiet|error|warning|info|debug", "how much the runtime logs; \"\": what set_log_level() set",
       &format_log_level, &parse_log_level},
  };
}

// A new runtime_settings member breaks this binding's count and so the build:
// give the member an option in make_options() (and config/interlock.ini,
// config/README.md), then add a name here.
[[maybe_unused]] void every_field_has_an_option(const runtime_settings& s) {
  [[maybe_unused]] auto& [path, sync, memory, pg_url, pg_schema, copies, max_batch, wait, read_batch, timeout, follow, window,
                          snap_every, snap_keep, passivate, max_live, retries, read_store, read_memory, read_schema,
                          level] = s;
}

const std::vector<option>& options() {
  static const std::vector<option> all = make_options();
  return all;
}

const option* find_option(std::string_view key) {
  for (auto& o : options())
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

std::string_view name_of(std::string_view key) { return key.substr(key.rfind('.') + 1); }

// A typo, or a key in the wrong section: worth a "did you mean".
std::string suggestion_for(std::string_view key) {
  for (auto& o : options())
    if (name_of(o.key) == name_of(key) || edit_distance(o.key, key) <= 2)
      return std::string{" (did you mean interlock."}.append(o.key).append("?)");
  return {};
}

caf::error setting_error(std::string_view key, std::string what) {
  return make_error(errc::invalid_argument, std::string{"setting interlock."}.append(key).append(": ").append(what));
}

// ---------------------------------------------------------------- reading cfg.content

// CAF's INI parser gives a typed value, the command line a string: both as
// the text the option's parser reads.
std::string value_text(const caf::config_value& v) {
  if (auto str = caf::get_if<std::string>(&v)) return *str;
  if (auto atom = caf::get_if<caf::atom_value>(&v)) return caf::to_string(*atom);
  if (auto span = caf::get_if<caf::timespan>(&v)) return format_duration(span->count(), 1);
  return caf::to_string(v);
}

caf::error apply_section(std::string_view section, const caf::config_value::dictionary& keys, runtime_settings& s) {
  for (auto& [name, value] : keys) {
    auto key = std::string{section}.append(".").append(name);
    auto opt = find_option(key);
    if (!opt) return setting_error(key, "unknown key" + suggestion_for(key));
    if (caf::holds_alternative<caf::config_value::dictionary>(value) ||
        caf::holds_alternative<caf::config_value::list>(value))
      return setting_error(key, "expected " + std::string{opt->accepts} + ", got " + caf::to_string(value));
    auto text = value_text(value);
    if (auto problem = opt->parse(text, s); !problem.empty())
      return setting_error(key, "bad value '" + text + "': " + problem);
  }
  return {};
}

caf::error check_settings(const runtime_settings& s) {
  if (!s.in_memory && s.postgres_url.empty() && s.database_path.empty())
    return setting_error("journal.database_path", "empty: give a file, or set interlock.journal.in_memory = true");
  return {};
}

// The argument or position a parser error carries ({"argument" = "--x"} or
// {"line" = 2, "column" = 9}).
const caf::config_value::dictionary* error_context(const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.size() != 1 || !ctx.match_element<caf::config_value::dictionary>(0)) return nullptr;
  return &ctx.get_as<caf::config_value::dictionary>(0);
}

std::string context_value(const caf::config_value::dictionary& ctx, const std::string& name) {
  auto it = ctx.find(name);
  return it == ctx.end() ? std::string{} : value_text(it->second);
}

std::string describe_parser_error(caf::pec code, const caf::config_value::dictionary& ctx, std::string file) {
  auto argument = context_value(ctx, "argument");
  if (argument.empty())  // the INI file
    return file + ":" + context_value(ctx, "line") + ":" + context_value(ctx, "column") + ": " + caf::to_string(code) +
           " (CAF's INI format: strings in quotes, comments after ';')";
  auto eq = argument.find('=');
  auto flag = argument.substr(0, eq);
  if (code == caf::pec::not_an_option) {
    std::string_view prefix = "--interlock.";
    auto hint = flag.starts_with(prefix) ? suggestion_for(std::string_view{flag}.substr(prefix.size())) : "";
    return "command line: unknown option " + flag + (hint.empty() ? " (--help, --long-help list them)" : hint);
  }
  if (code == caf::pec::missing_argument) return "command line: " + flag + " needs a value (" + flag + "=VALUE)";
  return "command line: " + caf::to_string(code) + " in " + argument;
}

}  // namespace

// ---------------------------------------------------------------- the API

void add_options(caf::actor_system_config& cfg) {
  // Every value is kept as the text or typed value CAF read; settings_from
  // checks it, so that an error names the key whichever way it came in.
  struct access : caf::actor_system_config {
    static caf::config_option_set& options_of(caf::actor_system_config& c) { return c.*(&access::custom_options_); }
  };
  static const std::vector<caf::config_option::meta_state> metas = [] {
    std::vector<caf::config_option::meta_state> out;
    for (auto& o : options())
      out.push_back({[](const caf::config_value&) { return caf::error{}; }, [](void*, const caf::config_value&) {},
                     [](const void*) { return caf::config_value{}; },
                     [](void*, caf::string_view text) -> caf::expected<caf::config_value> {
                       return caf::config_value{std::string{text.begin(), text.end()}};
                     },
                     std::string{o.accepts}});
    return out;
  }();
  runtime_settings defaults;
  auto& set = access::options_of(cfg);
  for (std::size_t i = 0; i < options().size(); ++i) {
    auto& o = options()[i];
    auto dot = o.key.find('.');
    auto category = std::string{"interlock."}.append(o.key.substr(0, dot));
    auto doc = std::string{o.doc}.append(" (default: ").append(o.format(defaults)).append(")");
    set.add(caf::config_option{category, o.key.substr(dot + 1), doc, &metas[i]});
  }
}

caf::expected<runtime_settings> settings_from(const caf::actor_system_config& cfg, runtime_settings base) {
  auto root = cfg.content.find("interlock");
  if (root != cfg.content.end()) {
    auto sections = caf::get_if<caf::config_value::dictionary>(&root->second);
    if (!sections) return make_error(errc::invalid_argument, "setting interlock: expected [interlock.SECTION] keys");
    for (auto& [section, keys] : *sections) {
      auto dict = caf::get_if<caf::config_value::dictionary>(&keys);
      if (!dict) return setting_error(section, "unknown key" + suggestion_for(section));
      if (auto err = apply_section(section, *dict, base)) return err;
    }
  }
  if (auto err = check_settings(base)) return err;
  return base;
}

std::string describe_config_error(const caf::error& err, const caf::actor_system_config& cfg) {
  if (err.category() == caf::atom("parser"))
    if (auto ctx = error_context(err))
      return describe_parser_error(static_cast<caf::pec>(err.code()), *ctx,
                                   cfg.config_file_path.empty() ? std::string{"the config file"}
                                                                : cfg.config_file_path);
  if (err.category() == caf::atom("system") && err.code() == static_cast<std::uint8_t>(caf::sec::cannot_open_file))
    if (err.context().match_elements<std::string>())
      return "cannot open config file " + err.context().get_as<std::string>(0);
  return caf::to_string(err);
}

}  // namespace interlock
