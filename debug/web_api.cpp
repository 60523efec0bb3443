#include "web_api.hpp"

#include <charconv>
#include <limits>

#include <interlock/core/errors.hpp>

#include "fold.hpp"
#include "json_diff.hpp"

namespace interlock::debug::detail {

namespace {

using json = nlohmann::json;

// Ends a request with `status` and {"error": message}.
struct http_error {
  int status;
  std::string message;
};

constexpr std::size_t max_listed = 1000;  // streams in the list, and in a search's answer
constexpr std::size_t max_found = 200;    // events in a search's answer

const std::string& required(const std::map<std::string, std::string>& query, const std::string& name) {
  auto it = query.find(name);
  if (it == query.end() || it->second.empty()) throw http_error{400, "the parameter '" + name + "' is missing"};
  return it->second;
}

std::uint64_t number(const std::map<std::string, std::string>& query, const std::string& name, std::uint64_t dflt,
                     std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  auto it = query.find(name);
  if (it == query.end()) return dflt;
  std::uint64_t n = 0;
  const auto& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n == 0)
    throw http_error{400, "the parameter '" + name + "' must be a positive integer, not '" + text + "'"};
  if (n > max)
    throw http_error{400, "the parameter '" + name + "' must be at most " + std::to_string(max) + ", not '" + text + "'"};
  return n;
}

json id_or_null(const std::string& id) { return id.empty() ? json(nullptr) : json(id); }
json id_or_null(const json& id) { return id.is_string() ? id_or_null(id.get<std::string>()) : id; }

// A column as text, whatever SQLite holds in it (a damaged journal may hold
// anything anywhere: the view shows it, never fails on it).
std::string text_of(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// recorded_at as ISO-8601 text; anything but an integer as it is.
json time_of(const json& value) { return value.is_number_integer() ? json(iso_time(value.get<std::int64_t>())) : value; }

// The streams' SQL (as interlock-journal streams): one row per stream.
std::string streams_sql(const std::string& where) {
  return "SELECT s.aggregate_type, s.aggregate_id, count(*), max(e.version), min(e.global_position),"
         " max(e.global_position), min(e.recorded_at), max(e.recorded_at)"
         " FROM streams s JOIN events e ON e.stream_key = s.stream_key " +
         where + " GROUP BY s.stream_key ORDER BY s.aggregate_type, s.aggregate_id LIMIT " +
         std::to_string(max_listed + 1);
}

json streams_of(const sql_file& sql, const std::string& where, const std::vector<std::string>& params) {
  auto out = json::array();
  sql.each(streams_sql(where), params, [&](const std::vector<json>& r) {
    out.push_back({{"stream", text_of(r[0]) + "/" + text_of(r[1])},
                   {"type", r[0]}, {"id", r[1]}, {"events", r[2]}, {"version", r[3]},
                   {"first_position", r[4]}, {"last_position", r[5]},
                   {"first_recorded_at", time_of(r[6])}, {"last_recorded_at", time_of(r[7])}});
  });
  return out;
}

// The answer's list `key`, cut at `max`; "KEY_truncated" says whether there were more.
void put_list(json& body, const std::string& key, json list, std::size_t max) {
  body[key + "_truncated"] = list.size() > max;
  if (list.size() > max) list.erase(list.begin() + static_cast<std::ptrdiff_t>(max), list.end());
  body[key] = std::move(list);
}

// The payload as JSON; text that is not JSON (a damaged event) as a string,
// with "payload_note" saying so.
void put_payload(json& ev, const std::string& payload) {
  auto parsed = json::parse(payload, nullptr, false);
  if (!parsed.is_discarded()) {
    ev["payload"] = std::move(parsed);
    return;
  }
  ev["payload"] = payload;
  ev["payload_note"] = "the payload is not JSON: shown as stored";
}

json event_json(const stored_event& e) {
  json ev{{"position", e.position},
          {"version", e.version},
          {"type", e.event_type},
          {"schema_version", e.schema_version},
          {"recorded_at", iso_time(e.recorded_at_us)},
          {"command_id", id_or_null(e.command_id)},
          {"correlation_id", id_or_null(e.correlation_id)},
          {"causation_id", id_or_null(e.causation_id)},
          {"payload", nullptr},
          {"state", nullptr},
          {"changes", nullptr}};
  put_payload(ev, e.payload);
  return ev;
}

json changes_json(const json& before, const json& after) {
  auto out = json::array();
  for (auto& ch : changes_between(before, after))
    out.push_back({{"op", ch.op}, {"path", ch.path}, {"text", ch.text}});
  return out;
}

struct window {
  std::uint64_t from;
  std::uint64_t last;  // the last version asked for
};

// Why the events of `s` come without states, or "" if they come with them.
std::string no_state_view(const console& c, const stream_name& s) {
  try {
    state_json(*c.aggregate(s.type).make(s.id, {}), s.type);
    return "";
  } catch (const failure& f) {
    return f.what();
  }
}

// The events in `w`, each with the state after it and its changes. The fold
// starts at version 1, but only the states from version `w.from - 1` on are
// made into JSON (the one before the page's first event, for its changes).
json folded_events(const console& c, journal& j, const stream_name& s, window w) {
  auto events = json::array();
  json state;  // the state before the event being applied, once it is in the window
  if (w.from == 1) state = json::parse(state_json(*c.aggregate(s.type).make(s.id, {}), s.type));
  fold(c, j, s, as_of::version(w.last), [&](const stored_event& e, const interlock::detail::aggregate_instance& i) {
    if (e.version + 1 < w.from) return;
    auto after = json::parse(state_json(i, s.type));
    if (e.version >= w.from) {
      auto ev = event_json(e);
      ev["changes"] = changes_json(state, after);
      ev["state"] = after;
      events.push_back(std::move(ev));
    }
    state = std::move(after);
  });
  return events;
}

// The events in `w` as stored, without states.
json stored_events(journal& j, const stream_name& s, window w) {
  auto events = json::array();
  auto scanned = j.scan_stream(s.type, s.id, w.from, w.last - w.from + 1, [&](const event_view& e) {
    events.push_back(event_json(to_stored(e)));
    return true;
  });
  if (!scanned) throw http_error{500, "reading " + s.text() + ": " + message_of(scanned.error())};
  return events;
}

// The events whose command, correlation or causation id is `id` (one more
// than max_found, for put_list), each saying which of them matched.
json events_with_id(const sql_file& sql, const std::string& id) {
  auto events = json::array();
  sql.each("SELECT e.global_position, s.aggregate_type, s.aggregate_id, e.version, e.event_type, e.recorded_at,"
           " coalesce(e.command_id, ''), coalesce(e.correlation_id, e.command_id, ''), coalesce(e.causation_id, '')"
           " FROM events e JOIN streams s ON s.stream_key = e.stream_key"
           " WHERE e.command_id = ?1 OR coalesce(e.correlation_id, e.command_id) = ?1 OR e.causation_id = ?1"
           " ORDER BY e.global_position LIMIT " + std::to_string(max_found + 1),
           {id}, [&](const std::vector<json>& r) {
             auto matched = json::array();
             for (auto [col, name] : {std::pair{6, "command_id"}, {7, "correlation_id"}, {8, "causation_id"}})
               if (r[col] == id) matched.push_back(name);
             events.push_back({{"position", r[0]}, {"stream", text_of(r[1]) + "/" + text_of(r[2])},
                               {"type", r[1]}, {"id", r[2]}, {"version", r[3]}, {"event_type", r[4]},
                               {"recorded_at", time_of(r[5])},
                               {"command_id", id_or_null(r[6])}, {"correlation_id", id_or_null(r[7])},
                               {"causation_id", id_or_null(r[8])}, {"matched", matched}});
           });
  return events;
}

}  // namespace

std::string web_response::text() const { return body.dump(-1, ' ', false, json::error_handler_t::replace); }

web_api::web_api(const console& c)
    : c_(c), journal_(c.open_journal()), sql_(c.journal_path(), sql_file::mode::read_only, "journal") {}

web_response web_api::get(const std::string& path, const std::map<std::string, std::string>& query) const {
  const std::lock_guard lock{mutex_};
  try {
    if (path == "/api/streams") return streams();
    if (path == "/api/stream") return stream(query);
    if (path == "/api/search") return search(query);
    return {404, {{"error", "no API at '" + path + "' (there are /api/streams, /api/stream, /api/search)"}}};
  } catch (const http_error& e) {
    return {e.status, {{"error", e.message}}};
  } catch (const std::exception& e) {  // a failure of the fold or of SQLite, named by its message
    return {500, {{"error", e.what()}}};
  }
}

web_response web_api::streams() const {
  json body{{"journal", c_.journal_path()}};
  put_list(body, "streams", streams_of(sql_, "", {}), max_listed);
  return {200, std::move(body)};
}

web_response web_api::stream(const std::map<std::string, std::string>& query) const {
  const stream_name s{required(query, "type"), required(query, "id")};
  auto head = journal_->stream_version(s.type, s.id);
  if (!head) throw http_error{500, "reading " + s.text() + ": " + message_of(head.error())};
  if (*head == 0) throw http_error{404, "no stream " + s.text() + " in journal '" + c_.journal_path() + "'"};
  const auto from = number(query, "from", 1);
  const auto limit = number(query, "limit", default_limit, max_limit);
  const window w{from, from > *head ? *head : from - 1 + std::min(limit, *head - from + 1)};
  auto why = no_state_view(c_, s);
  json events = json::array();
  if (from <= *head && why.empty()) {
    try {
      events = folded_events(c_, *journal_, s, w);
    } catch (const std::exception& e) {  // a damaged event: the others can still be read
      why = std::string{"the stream does not fold, so its events are shown without states: "} + e.what();
    }
  }
  if (from <= *head && !why.empty()) events = stored_events(*journal_, s, w);
  json body{{"stream", s.text()}, {"type", s.type}, {"id", s.id}, {"version", *head}, {"from", from},
            {"state_view", why.empty() ? json(nullptr) : json(why)},
            {"next_from", w.last < *head ? json(w.last + 1) : json(nullptr)}};
  body["events"] = std::move(events);
  return {200, std::move(body)};
}

web_response web_api::search(const std::map<std::string, std::string>& query) const {
  const auto& q = required(query, "q");
  json body{{"query", q}};
  put_list(body, "streams", streams_of(sql_, "WHERE substr(s.aggregate_id, 1, length(?1)) = ?1", {q}), max_listed);
  put_list(body, "events", events_with_id(sql_, q), max_found);
  return {200, std::move(body)};
}

}  // namespace interlock::debug::detail
