// Reading events out of a journal file for `events`, `tail` and `export`:
// which events (a filter: positions, a stream, types, times, ids), in
// position order, and how one is written (JSON object, table row).
//
// The JSON form of an event, one object (what `events --json`/`--jsonl`,
// `tail --jsonl` and `export` write, and what `import` reads):
//   {"position":1,"stream":"Account/a1","aggregate_type":"Account","aggregate_id":"a1",
//    "version":1,"type":"Opened","schema_version":1,
//    "recorded_at":"2024-05-01T12:00:00.000000Z","recorded_at_us":1714564800000000,
//    "command_id":"c1","correlation_id":"c1","causation_id":null,"payload":{...}}
// Absent ids are null. A payload that is not valid JSON is written as the
// string "payload_text" instead of "payload" (export refuses it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "database.hpp"
#include "output.hpp"

namespace CLI {
class App;
}

namespace journal_cli {

struct event_row {
  std::uint64_t position = 0;
  std::string aggregate_type;
  std::string aggregate_id;
  std::uint64_t version = 0;
  std::string event_type;
  std::int64_t schema_version = 1;
  std::string payload;
  std::int64_t recorded_at_us = 0;
  std::string command_id;
  std::string correlation_id;
  std::string causation_id;
  std::string stream() const { return aggregate_type + "/" + aggregate_id; }
};

/// Which events: all conditions hold. Unset/empty means no condition.
struct event_filter {
  std::uint64_t from = 1;                 // position >= from
  std::optional<std::uint64_t> to;        // position <= to
  std::string stream_type, stream_id;     // one stream (both set)
  std::vector<std::string> aggregate_types;
  std::vector<std::string> event_types;
  std::optional<std::int64_t> since_us;   // recorded at or after
  std::optional<std::int64_t> until_us;   // recorded at or before
  std::string correlation_id;
  std::string command_id;
  std::size_t limit = 0;                  // 0: no limit
};

/// The command-line options that fill an event_filter's type, time and id
/// conditions (--aggregate-type, --event-type, --since, --until,
/// --correlation, --command); `resolve` turns the raw text into the filter.
struct filter_options {
  std::vector<std::string> aggregate_types, event_types;
  std::string since, until, correlation, command;
  void add_to(CLI::App& app);
  void resolve(event_filter& f) const;  // tool_error (exit 2) for a time that is not ISO-8601
};

/// "Type/id" split at its first '/'; a usage tool_error if there is none.
std::pair<std::string, std::string> split_stream(const std::string& name);

/// Visits the events that pass `f`, in position order, until `visit` returns
/// false. A tool_error if `f` names a stream the journal does not have.
void each_event(database& db, const event_filter& f, const std::function<bool(const event_row&)>& visit);

/// The last `n` events that pass `f`, in position order.
std::vector<event_row> last_events(database& db, const event_filter& f, std::size_t n);

/// The event's JSON form (above).
nlohmann::ordered_json to_json(const event_row& e);

/// Prints events as a table (position, time, stream, version, type, payload
/// cut to the width) or, with `jsonl`, one JSON object per line.
class event_printer {
 public:
  enum class form { table, json, jsonl };
  event_printer(form f, const output& out) : form_(f), out_(out) {}
  void add(const event_row& e);
  /// Writes the table rows add() kept back, and flushes stdout (more may follow).
  void flush();
  /// flush(), and a JSON array's end.
  void finish();

 private:
  void print_held();
  form form_;
  const output& out_;
  std::vector<event_row> held_;  // a table is printed in parts of up to 1,024 rows
  std::vector<std::size_t> widths_;
  bool any_ = false;
};

}  // namespace journal_cli
