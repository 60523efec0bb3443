// Event filters as SQL, and an event as JSON or a table row (events_query.hpp).
#include "events_query.hpp"

#include <algorithm>
#include <cstdio>

#include <CLI/CLI.hpp>

namespace journal_cli {
namespace {

constexpr const char* select_events =
    "SELECT e.global_position, coalesce(s.aggregate_type, ''), coalesce(s.aggregate_id, ''), e.version,"
    " e.event_type, e.schema_version, e.payload, e.recorded_at, coalesce(e.command_id, ''),"
    " coalesce(e.correlation_id, e.command_id, ''), coalesce(e.causation_id, '')"
    " FROM events e LEFT JOIN streams s ON s.stream_key = e.stream_key WHERE e.global_position >= ?";

event_row read_event(const row& r) {
  event_row e;
  e.position = r.u64(0);
  e.aggregate_type = r.text(1);
  e.aggregate_id = r.text(2);
  e.version = r.u64(3);
  e.event_type = r.text(4);
  e.schema_version = r.i64(5);
  e.payload = r.text(6);
  e.recorded_at_us = r.i64(7);
  e.command_id = r.text(8);
  e.correlation_id = r.text(9);
  e.causation_id = r.text(10);
  return e;
}

void add_in(std::string& sql, std::vector<sql_value>& params, const char* column, const std::vector<std::string>& v) {
  if (v.empty()) return;
  sql.append(" AND ").append(column).append(" IN (");
  for (std::size_t i = 0; i < v.size(); ++i) {
    sql.append(i == 0 ? "?" : ", ?");
    params.emplace_back(v[i]);
  }
  sql.append(")");
}

// Narrows `sql` to the filter's stream; a tool_error if there is no such stream.
void add_stream(database& db, const event_filter& f, std::string& sql, std::vector<sql_value>& params) {
  if (f.stream_type.empty()) return;
  std::int64_t key = 0, first = 0;
  db.each("SELECT stream_key, first_position FROM streams WHERE aggregate_type = ? AND aggregate_id = ?",
          {f.stream_type, f.stream_id}, [&](const row& r) { return key = r.i64(0), first = r.i64(1), false; });
  if (key == 0) throw tool_error{"no stream '" + f.stream_type + "/" + f.stream_id + "' in journal '" + db.path() + "'"};
  sql += " AND e.stream_key = ? AND e.global_position >= ?";  // the second lets SQLite skip what comes before
  params.emplace_back(key);
  params.emplace_back(first);
}

// The filter's WHERE clause (after select_events) and its parameters.
std::pair<std::string, std::vector<sql_value>> where(database& db, const event_filter& f) {
  std::string sql = select_events;
  std::vector<sql_value> params{static_cast<std::int64_t>(f.from)};
  if (f.to) sql += " AND e.global_position <= ?", params.emplace_back(static_cast<std::int64_t>(*f.to));
  add_stream(db, f, sql, params);
  add_in(sql, params, "s.aggregate_type", f.aggregate_types);
  add_in(sql, params, "e.event_type", f.event_types);
  if (f.since_us) sql += " AND e.recorded_at >= ?", params.emplace_back(*f.since_us);
  if (f.until_us) sql += " AND e.recorded_at <= ?", params.emplace_back(*f.until_us);
  if (!f.correlation_id.empty())
    sql += " AND coalesce(e.correlation_id, e.command_id) = ?", params.emplace_back(f.correlation_id);
  if (!f.command_id.empty()) sql += " AND e.command_id = ?", params.emplace_back(f.command_id);
  return {std::move(sql), std::move(params)};
}

std::optional<std::int64_t> time_option(const std::string& text, const char* name) {
  if (text.empty()) return std::nullopt;
  if (auto t = parse_iso_time(text)) return t;
  throw tool_error{std::string{name} + ": '" + text + "' is not an ISO-8601 time (e.g. 2024-05-01T12:00:00Z)", 2};
}

nlohmann::ordered_json id_or_null(const std::string& id) {
  return id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(id);
}

// The payload on one line (newlines and tabs as spaces), for a table cell.
std::string one_line(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return text;
}

}  // namespace

void filter_options::add_to(CLI::App& app) {
  app.add_option("--aggregate-type", aggregate_types, "only events of streams of this aggregate type (repeatable)");
  app.add_option("--event-type", event_types, "only events of this type (repeatable)");
  app.add_option("--since", since, "only events recorded at or after this ISO-8601 time (UTC if no zone)");
  app.add_option("--until", until, "only events recorded at or before this ISO-8601 time");
  app.add_option("--correlation", correlation, "only events of this correlation id");
  app.add_option("--command", command, "only events of this command id");
}

void filter_options::resolve(event_filter& f) const {
  f.aggregate_types = aggregate_types;
  f.event_types = event_types;
  f.since_us = time_option(since, "--since");
  f.until_us = time_option(until, "--until");
  f.correlation_id = correlation;
  f.command_id = command;
}

std::pair<std::string, std::string> split_stream(const std::string& name) {
  const auto slash = name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == name.size())
    throw tool_error{"a stream is named Type/id, not '" + name + "'", 2};
  return {name.substr(0, slash), name.substr(slash + 1)};
}

void each_event(database& db, const event_filter& f, const std::function<bool(const event_row&)>& visit) {
  auto [sql, params] = where(db, f);
  sql += " ORDER BY e.global_position";
  if (f.limit > 0) sql += " LIMIT ?", params.emplace_back(static_cast<std::int64_t>(f.limit));
  db.each(sql, params, [&](const row& r) { return visit(read_event(r)); });
}

std::vector<event_row> last_events(database& db, const event_filter& f, std::size_t n) {
  std::vector<event_row> out;
  if (n == 0) return out;
  auto [sql, params] = where(db, f);
  sql += " ORDER BY e.global_position DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(n));
  db.each(sql, params, [&](const row& r) { return out.push_back(read_event(r)), true; });
  std::reverse(out.begin(), out.end());
  return out;
}

nlohmann::ordered_json to_json(const event_row& e) {
  nlohmann::ordered_json j;
  j["position"] = e.position;
  j["stream"] = e.stream();
  j["aggregate_type"] = e.aggregate_type;
  j["aggregate_id"] = e.aggregate_id;
  j["version"] = e.version;
  j["type"] = e.event_type;
  j["schema_version"] = e.schema_version;
  j["recorded_at"] = iso_time(e.recorded_at_us);
  j["recorded_at_us"] = e.recorded_at_us;
  j["command_id"] = id_or_null(e.command_id);
  j["correlation_id"] = id_or_null(e.correlation_id);
  j["causation_id"] = id_or_null(e.causation_id);
  auto payload = nlohmann::ordered_json::parse(e.payload, nullptr, false);
  if (payload.is_discarded())
    j["payload_text"] = e.payload;
  else
    j["payload"] = std::move(payload);
  return j;
}

void event_printer::add(const event_row& e) {
  if (form_ == form::jsonl) {
    std::printf("%s\n", to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  if (form_ == form::json) {
    std::printf("%s%s", any_ ? ",\n" : "[\n",
                to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    any_ = true;
    return;
  }
  held_.push_back(e);
  if (held_.size() == 1024) print_held();
}

void event_printer::print_held() {
  table t{{{"POSITION", true, paint_style::dim},
           {"TIME", false, paint_style::dim},
           {"STREAM", false, paint_style::cyan},
           {"VERSION", true},
           {"TYPE", false, paint_style::green},
           {"PAYLOAD"}}};
  for (const auto& e : held_)
    t.add({std::to_string(e.position), iso_time(e.recorded_at_us, false), e.stream(), std::to_string(e.version),
           e.event_type, one_line(e.payload)});
  if (!held_.empty()) t.print(stdout, out_, !any_, &widths_);
  any_ = any_ || !held_.empty();
  held_.clear();
}

void event_printer::flush() {
  if (form_ == form::table) print_held();
  std::fflush(stdout);
}

void event_printer::finish() {
  if (form_ == form::json) std::printf("%s]\n", any_ ? "\n" : "[");
  flush();
}

}  // namespace journal_cli
