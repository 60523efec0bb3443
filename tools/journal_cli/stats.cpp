// `stats FILE`: what a journal holds. Events and streams, positions and
// times; events per event type, per aggregate type (with its streams) and per
// day (UTC); the file's and its WAL's size; snapshots; idempotency records
// (the commands table: how many refused, how many stored no events); and the
// projections' checkpoints in the read store (--read-store PATH, else the
// file beside the journal, "x.db" -> "x.read.db", if there is one), each with
// its lag behind the journal. Text, or with --json one object:
//   {"file","file_bytes","wal_bytes","events","streams","first_position","last_position",
//    "first_recorded_at","last_recorded_at","event_types":[{"type","events"}],
//    "aggregate_types":[{"type","streams","events"}],"days":[{"day","events"}],
//    "snapshots":{"count","streams","bytes"},"commands":{"count","refused","without_events"},
//    "read_store":null|{"path","checkpoints":[{"projection","position","lag"}],"parked":N}}
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "read_side.hpp"

namespace journal_cli {
namespace {

using json = nlohmann::ordered_json;

struct stats_options {
  std::string file;
  std::string read_store;
  bool json = false;
};

std::uint64_t size_of(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

// The rows of `sql` as JSON objects with `names` (first column text, the others integers).
json rows_of(database& db, const char* sql, const std::vector<std::string>& names) {
  auto out = json::array();
  db.each(sql, {}, [&](const row& r) {
    json o;
    o[names[0]] = r.text(0);
    for (std::size_t i = 1; i < names.size(); ++i) o[names[i]] = r.i64(static_cast<int>(i));
    out.push_back(std::move(o));
    return true;
  });
  return out;
}

void add_totals(database& db, json& s) {
  db.each("SELECT count(*), coalesce(min(global_position), 0), coalesce(max(global_position), 0),"
          " min(recorded_at), max(recorded_at) FROM events",
          {}, [&](const row& r) {
            s["events"] = r.i64(0);
            s["streams"] = db.scalar("SELECT count(*) FROM streams");
            s["first_position"] = r.i64(1);
            s["last_position"] = r.i64(2);
            s["first_recorded_at"] = r.null(3) ? json(nullptr) : json(iso_time(r.i64(3)));
            s["last_recorded_at"] = r.null(4) ? json(nullptr) : json(iso_time(r.i64(4)));
            return false;
          });
}

void add_breakdowns(database& db, json& s) {
  s["event_types"] = rows_of(db, "SELECT event_type, count(*) FROM events GROUP BY event_type"
                                 " ORDER BY count(*) DESC, event_type", {"type", "events"});
  s["aggregate_types"] = rows_of(db,
      "SELECT s.aggregate_type, count(DISTINCT e.stream_key), count(*) FROM events e"
      " JOIN streams s ON s.stream_key = e.stream_key GROUP BY s.aggregate_type ORDER BY count(*) DESC, 1",
      {"type", "streams", "events"});
  s["days"] = rows_of(db, "SELECT date(recorded_at / 1000000, 'unixepoch') AS day, count(*) FROM events"
                          " GROUP BY day ORDER BY day", {"day", "events"});
}

void add_side_tables(database& db, json& s) {
  db.each("SELECT count(*), count(DISTINCT stream_key), coalesce(sum(length(CAST(state AS BLOB))), 0) FROM snapshots",
          {}, [&](const row& r) {
            s["snapshots"] = {{"count", r.i64(0)}, {"streams", r.i64(1)}, {"bytes", r.i64(2)}};
            return false;
          });
  db.each("SELECT count(*), count(error_code), count(*) FILTER (WHERE first_position = 0 AND error_code IS NULL)"
          " FROM commands",
          {}, [&](const row& r) {
            s["commands"] = {{"count", r.i64(0)}, {"refused", r.i64(1)}, {"without_events", r.i64(2)}};
            return false;
          });
}

json read_store_stats(const stats_options& o, std::int64_t last_position) {
  auto store = read_store_for(o.file, o.read_store);
  if (!store) return nullptr;
  auto checkpoints = json::array();
  for (const auto& c : read_checkpoints(*store))
    checkpoints.push_back({{"projection", c.projection},
                           {"position", c.position},
                           {"lag", last_position - static_cast<std::int64_t>(c.position)}});
  return {{"path", store->path()}, {"checkpoints", checkpoints}, {"parked", read_parked(*store).size()}};
}

json collect(const stats_options& o) {
  auto db = open_journal(o.file);
  json s;
  s["file"] = o.file;
  s["file_bytes"] = size_of(o.file);
  s["wal_bytes"] = size_of(o.file + "-wal");
  add_totals(db, s);
  add_breakdowns(db, s);
  add_side_tables(db, s);
  s["read_store"] = read_store_stats(o, s["last_position"].get<std::int64_t>());
  return s;
}

std::string num(const json& j) { return std::to_string(j.get<std::int64_t>()); }

void print_summary(const json& s, const output& out) {
  const auto label = [&](const char* l) { return paint(l, paint_style::bold, out.color); };
  std::printf("%s  %s\n", label("journal  ").c_str(), s["file"].get<std::string>().c_str());
  std::printf("%s  %s, WAL %s\n", label("size     ").c_str(), human_size(s["file_bytes"].get<std::uint64_t>()).c_str(),
              human_size(s["wal_bytes"].get<std::uint64_t>()).c_str());
  std::printf("%s  %s in %s streams, positions %s..%s\n", label("events   ").c_str(), num(s["events"]).c_str(),
              num(s["streams"]).c_str(), num(s["first_position"]).c_str(), num(s["last_position"]).c_str());
  if (!s["first_recorded_at"].is_null())
    std::printf("%s  %s to %s\n", label("time     ").c_str(), s["first_recorded_at"].get<std::string>().c_str(),
                s["last_recorded_at"].get<std::string>().c_str());
  const auto& snap = s["snapshots"];
  std::printf("%s  %s of %s streams (%s)\n", label("snapshots").c_str(), num(snap["count"]).c_str(),
              num(snap["streams"]).c_str(), human_size(snap["bytes"].get<std::uint64_t>()).c_str());
  const auto& cmd = s["commands"];
  std::printf("%s  %s recorded (%s refused, %s without events)\n", label("commands ").c_str(),
              num(cmd["count"]).c_str(), num(cmd["refused"]).c_str(), num(cmd["without_events"]).c_str());
}

// A table of `rows` (JSON objects) under `headers`, one column per key in order.
void print_rows(const json& rows, std::vector<column> headers, const output& out) {
  if (rows.empty()) return;
  table t{std::move(headers)};
  for (const auto& r : rows) {
    std::vector<std::string> cells;
    for (const auto& [key, value] : r.items()) cells.push_back(value.is_string() ? value.get<std::string>() : value.dump());
    t.add(std::move(cells));
  }
  std::printf("\n");
  t.print(stdout, out);
}

void print_read_store(const json& store, const output& out) {
  if (store.is_null()) return std::printf("\nread store: none beside the journal (--read-store PATH)\n"), void();
  std::printf("\nread store %s: %zu parked events\n", store["path"].get<std::string>().c_str(),
              static_cast<std::size_t>(store["parked"].get<std::int64_t>()));
  print_rows(store["checkpoints"], {{"PROJECTION", false, paint_style::cyan}, {"POSITION", true}, {"LAG", true}}, out);
}

void print_text(const json& s, const output& out) {
  print_summary(s, out);
  print_rows(s["event_types"], {{"EVENT TYPE", false, paint_style::green}, {"EVENTS", true}}, out);
  print_rows(s["aggregate_types"], {{"AGGREGATE TYPE", false, paint_style::cyan}, {"STREAMS", true}, {"EVENTS", true}},
             out);
  print_rows(s["days"], {{"DAY (UTC)"}, {"EVENTS", true}}, out);
  print_read_store(s["read_store"], out);
}

}  // namespace

command add_stats(CLI::App& tool) {
  auto o = std::make_shared<stats_options>();
  auto* app = tool.add_subcommand("stats", "counts by event type, aggregate type and day; sizes; snapshots; "
                                           "commands; projection checkpoints");
  app->add_option("FILE", o->file, "the journal")->required();
  app->add_option("--read-store", o->read_store, "the read store (default: FILE with .db replaced by .read.db, if there)");
  app->add_flag("--json", o->json, "one JSON object instead of text");
  return {app, [o](const output& out) {
            const auto s = collect(*o);
            if (o->json)
              std::printf("%s\n", s.dump(1).c_str());
            else
              print_text(s, out);
            return 0;
          }};
}

}  // namespace journal_cli
