#include <interlock/persistence/journal.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>

#include <interlock/core/detail/utf8.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal_detail.hpp>
#include <interlock/persistence/journal_watch.hpp>

namespace interlock {

std::vector<stored_event> committed_events(const append_request& req, const append_result& res) {
  std::vector<stored_event> out;
  out.reserve(req.events.size());
  for (std::size_t i = 0; i < req.events.size(); ++i) {
    const auto& rec = req.events[i];
    out.push_back(to_stored({res.first_position + i, req.aggregate_type, req.aggregate_id,
                             req.expected_version + 1 + i, rec.type, rec.schema_version, rec.payload,
                             res.recorded_at_us, req.command_id, req.correlation_id, req.causation_id}));
  }
  return out;
}

std::vector<stored_event> committed_events(const std::vector<append_request>& requests,
                                           const std::vector<caf::expected<append_result>>& results) {
  std::vector<stored_event> committed;
  for (std::size_t i = 0; i < requests.size() && i < results.size(); ++i)
    if (results[i]) {
      auto events = committed_events(requests[i], *results[i]);
      std::move(events.begin(), events.end(), std::back_inserter(committed));
    }
  std::sort(committed.begin(), committed.end(),
            [](const stored_event& a, const stored_event& b) { return a.position < b.position; });
  return committed;
}

namespace detail {

std::string stream_name(const std::string& aggregate_type, const std::string& aggregate_id) {
  return aggregate_type + "/" + aggregate_id;
}

caf::error validate_stream_name(const std::string& aggregate_type, const std::string& aggregate_id) {
  if (aggregate_type.empty()) return make_error(errc::invalid_argument, "aggregate_type is empty");
  if (aggregate_id.empty())
    return make_error(errc::invalid_argument, "aggregate_id is empty (aggregate_type '" + aggregate_type + "')");
  if (!is_identifier(aggregate_type))
    return make_error(errc::invalid_argument, identifier_problem("aggregate_type", aggregate_type));
  if (!is_identifier(aggregate_id))
    return make_error(errc::invalid_argument, identifier_problem("aggregate_id", aggregate_id) + " (aggregate_type '" +
                                                  aggregate_type + "')");
  return {};
}

namespace {

// What is stored as text besides identifiers (JSON, a refusal's message) must
// be valid UTF-8 without a NUL byte: PostgreSQL's text cannot hold one (the
// server would refuse the request's whole batch), a C client reads text only
// up to it, and JSON never needs one (it writes \u0000). Why `text` cannot be
// stored ("is not valid UTF-8 (byte 0xff at offset 3)", "holds a NUL byte at
// offset 5 ..."), or "" if it can.
std::string text_problem(const std::string& text) {
  if (const auto at = utf8_error_at(text); at != std::string::npos)
    return "is not valid UTF-8 (" + describe_utf8_error(text[at], at) + ")";
  if (const auto at = text.find('\0'); at != std::string::npos)
    return "holds a NUL byte at offset " + std::to_string(at) + " (stored text cannot; JSON writes it as \\u0000)";
  return {};
}

// What a request stores as text besides its stream name must be valid UTF-8
// too (utf8.hpp says why): its ids and event types, and, as a last line
// behind the runtime's own checks (which name the field), its JSON. One pass
// over each, mostly 8 bytes at a time, and a memchr: little beside what
// storing them costs.
template <class Name>
caf::error validate_text(const append_request& req, const Name& name) {
  const auto refuse = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "the append to '" + name() + "': " + why);
  };
  for (auto [label, id] :
       {std::pair{"command_id", &req.command_id}, std::pair{"command_type", &req.command_type},
        std::pair{"correlation_id", &req.correlation_id}, std::pair{"causation_id", &req.causation_id}})
    if (!is_identifier(*id, true)) return refuse(identifier_problem(label, *id, true));
  for (std::size_t i = 0; i < req.events.size(); ++i) {
    const auto& e = req.events[i];
    if (!is_identifier(e.type)) return refuse("event " + std::to_string(i) + ": " + identifier_problem("its type", e.type));
    if (auto problem = text_problem(e.payload); !problem.empty())
      return refuse("the payload of event " + std::to_string(i) + " (version " +
                    std::to_string(req.expected_version + 1 + i) + ", type " + e.type + ") " + problem);
  }
  if (req.snapshot)
    if (auto problem = text_problem(req.snapshot->state); !problem.empty())
      return refuse("the snapshot's state (version " + std::to_string(req.snapshot->version) + ") " + problem);
  if (auto problem = text_problem(req.result_json); !problem.empty())
    return refuse("the result of command " + req.command_id +
                  (req.command_type.empty() ? "" : " (type " + req.command_type + ")") + " " + problem);
  return {};
}

// A refusal is the whole outcome of a refused command, what a retry gets back:
// it stores nothing else, and it must read back as it was, so it is an
// interlock error (an errc to store) whose message is text.
template <class Name>
caf::error validate_refusal(const append_request& req, const Name& name) {
  if (!req.refusal) return {};
  const auto refuse = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "the append to '" + name() + "' has a refusal " + why);
  };
  if (!code_of(req.refusal))
    return refuse("that is not an interlock error (make it with make_error): " + describe(req.refusal));
  if (!req.events.empty())
    return refuse("and " + std::to_string(req.events.size()) + " events: a refused command stores no events");
  if (req.snapshot) return refuse("and a snapshot: a refused command stores no snapshot");
  if (!req.result_json.empty()) return refuse("and a result: a refused command's outcome is its refusal");
  // (message_of() only on a set error: CAF's context() of an empty one is null.)
  if (auto problem = text_problem(message_of(req.refusal)); !problem.empty())
    return refuse("whose message " + problem);
  return {};
}

// Schema versions are stored as 32-bit signed integers (PostgreSQL's
// integer): one above that would fail the request's whole batch there.
template <class Name>
caf::error validate_schema_versions(const append_request& req, const Name& name) {
  constexpr std::uint32_t most = INT32_MAX;
  const auto refuse = [&](const std::string& what, std::uint32_t value) {
    return make_error(errc::invalid_argument, "the append to '" + name() + "': " + what + " is " +
                                                  std::to_string(value) + ", at most " + std::to_string(most) +
                                                  " is stored");
  };
  for (std::size_t i = 0; i < req.events.size(); ++i)
    if (const auto& e = req.events[i]; e.schema_version > most)
      return refuse("the schema_version of event " + std::to_string(i) + " (version " +
                        std::to_string(req.expected_version + 1 + i) + ", type " + e.type + ")",
                    e.schema_version);
  if (req.snapshot && req.snapshot->state_version > most)
    return refuse("the state_version of the snapshot (version " + std::to_string(req.snapshot->version) + ")",
                  req.snapshot->state_version);
  return {};
}

}  // namespace

caf::error validate(const append_request& req) {
  if (auto err = validate_stream_name(req.aggregate_type, req.aggregate_id)) return err;
  // Named only on a failure: every append is validated on the commit thread.
  const auto name = [&] { return stream_name(req.aggregate_type, req.aggregate_id); };
  // A recorded command may store nothing but its outcome (journal.hpp).
  if (req.events.empty() && !req.record_command)
    return make_error(errc::invalid_argument,
                      "append to '" + name() + "' has no events (only a recorded command may have none)");
  for (std::size_t i = 0; i < req.events.size(); ++i)
    if (req.events[i].type.empty())
      return make_error(errc::invalid_argument,
                        "event " + std::to_string(i) + " of the append to '" + name() + "' has an empty type");
  if (auto err = validate_schema_versions(req, name)) return err;
  if (auto err = validate_text(req, name)) return err;
  if (auto err = validate_refusal(req, name)) return err;
  // A snapshot comes with the events that lead to it: without any, it holds a
  // state the stream had already (and a new stream has no row to keep it under).
  if (req.snapshot && req.events.empty())
    return make_error(errc::invalid_argument,
                      "the append to '" + name() + "' has a snapshot but no events: a snapshot comes with events");
  if (req.snapshot && req.snapshot->version != req.expected_version + req.events.size())
    return make_error(errc::invalid_argument, "the snapshot in the append to '" + name() + "' is at version " +
                                                  std::to_string(req.snapshot->version) + ", the events end at version " +
                                                  std::to_string(req.expected_version + req.events.size()));
  if (req.record_command && req.command_id.empty())
    return make_error(errc::invalid_argument, "the append to '" + name() + "' records its command but has no command_id");
  if (req.snapshot && req.keep_snapshots == 0)
    return make_error(errc::invalid_argument, "the append to '" + name() + "' keeps 0 snapshots; at least 1 is kept");
  return {};
}

append_result landing(const append_request& req, std::uint64_t first_position, std::int64_t now) {
  const auto n = req.events.size();
  if (n == 0) return {0, 0, req.expected_version, now};
  return {first_position, first_position + n - 1, req.expected_version + n, now};
}

command_record command_of(const append_request& req, const append_result& res) {
  return {req.aggregate_type, req.aggregate_id, res.first_position, res.last_position, res.last_version,
          req.result_json,    req.command_type, req.refusal};
}

caf::error conflict(const append_request& req, std::uint64_t actual_version) {
  return make_error(errc::conflict, "stream '" + stream_name(req.aggregate_type, req.aggregate_id) +
                                        "' is at version " + std::to_string(actual_version) +
                                        ", expected version " + std::to_string(req.expected_version));
}

caf::error previous_failed(const append_request& req) {
  return make_error(errc::conflict, "append to '" + stream_name(req.aggregate_type, req.aggregate_id) +
                                        "' at expected version " + std::to_string(req.expected_version) +
                                        " not tried: the request it follows (after_previous) failed");  // this batch or an earlier one
}

caf::error command_seen(const append_request& req) {
  return make_error(errc::conflict, "command " + req.command_id + " to '" +
                                        stream_name(req.aggregate_type, req.aggregate_id) +
                                        "' was committed before; it is not run twice");
}

std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace detail
event_view view_of(const stored_event& e) {
  return {e.position,     e.aggregate_type, e.aggregate_id,   e.version,        e.event_type,  e.schema_version,
          e.payload,      e.recorded_at_us, e.command_id,     e.correlation_id, e.causation_id};
}

stored_event to_stored(const event_view& v) {
  stored_event e;
  e.position = v.position;
  e.aggregate_type = v.aggregate_type;
  e.aggregate_id = v.aggregate_id;
  e.version = v.version;
  e.event_type = v.event_type;
  e.schema_version = v.schema_version;
  e.payload = v.payload;
  e.recorded_at_us = v.recorded_at_us;
  e.command_id = v.command_id;
  e.correlation_id = v.correlation_id;
  e.causation_id = v.causation_id;
  return e;
}

namespace {

caf::expected<std::size_t> visit_all(caf::expected<std::vector<stored_event>> events, const event_visitor& visit) {
  if (!events) return std::move(events.error());
  std::size_t n = 0;
  for (auto& e : *events) {
    ++n;
    if (!visit(view_of(e))) break;
  }
  return n;
}

}  // namespace

caf::expected<std::size_t> journal::scan_stream(const std::string& aggregate_type, const std::string& aggregate_id,
                                                std::uint64_t from_version, std::size_t max_count,
                                                const event_visitor& visit, scan_fields) {
  return visit_all(read_stream(aggregate_type, aggregate_id, from_version, max_count), visit);
}

caf::expected<std::size_t> journal::scan_all(std::uint64_t from_position, std::size_t max_count,
                                             const event_visitor& visit, scan_fields) {
  return visit_all(read_all(from_position, max_count), visit);
}

bool log_filter::matches(std::string_view aggregate_type, std::string_view event_type) const {
  const auto listed = [](const std::vector<std::string>& list, std::string_view value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  return listed(aggregate_types, aggregate_type) && listed(event_types, event_type);
}

// The log in chunks, the events that do not pass skipped.
caf::expected<std::size_t> journal::scan_filtered(std::uint64_t from_position, std::size_t max_count,
                                                  const log_filter& filter, const event_visitor& visit,
                                                  scan_fields fields) {
  constexpr std::size_t chunk = 4096;
  std::size_t visited = 0;
  bool more = true;
  auto next = std::max<std::uint64_t>(from_position, 1);
  while (more && visited < max_count) {
    std::uint64_t seen = 0;
    auto scanned = scan_all(next, chunk, [&](const event_view& v) {
      seen = v.position;
      if (!filter.matches(v.aggregate_type, v.event_type)) return true;
      ++visited;
      return (more = visit(v)) && visited < max_count;
    }, fields);
    if (!scanned) return std::move(scanned.error());
    if (*scanned < chunk || seen == 0) break;
    next = seen + 1;
  }
  return visited;
}

caf::expected<std::unique_ptr<journal_watch>> journal::open_watch() { return std::unique_ptr<journal_watch>{}; }

}  // namespace interlock
