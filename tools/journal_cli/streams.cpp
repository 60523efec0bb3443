// `streams FILE`: every stream of a journal with its aggregate type, event
// count, last version, and the times of its first and last events; filtered
// by --type, ordered by --sort (id: by type and id; events: most first; last:
// most recently written first; first: oldest first), cut by --limit; a table,
// or with --json one array of objects:
//   {"stream","aggregate_type","aggregate_id","events","version",
//    "first_position","last_position","first_recorded_at","last_recorded_at"}
// Reads every event (one pass, grouped by stream).
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "database.hpp"

namespace journal_cli {
namespace {

struct streams_options {
  std::string file;
  std::string type;
  std::string sort = "id";
  std::size_t limit = 0;
  bool json = false;
};

struct stream_info {
  std::string type, id;
  std::int64_t events = 0, version = 0, first_position = 0, last_position = 0, first_us = 0, last_us = 0;
};

std::string query(const streams_options& o) {
  static const std::map<std::string, std::string> order{
      {"id", "s.aggregate_type, s.aggregate_id"},
      {"events", "count(*) DESC, s.aggregate_type, s.aggregate_id"},
      {"last", "max(e.global_position) DESC"},
      {"first", "min(e.global_position)"}};
  std::string sql =
      "SELECT s.aggregate_type, s.aggregate_id, count(*), max(e.version), min(e.global_position),"
      " max(e.global_position), min(e.recorded_at), max(e.recorded_at)"
      " FROM streams s JOIN events e ON e.stream_key = s.stream_key";
  if (!o.type.empty()) sql += " WHERE s.aggregate_type = ?";
  sql += " GROUP BY s.stream_key ORDER BY " + order.at(o.sort);
  if (o.limit > 0) sql += " LIMIT " + std::to_string(o.limit);
  return sql;
}

std::vector<stream_info> read_streams(const streams_options& o) {
  auto db = open_journal(o.file);
  std::vector<sql_value> params;
  if (!o.type.empty()) params.emplace_back(o.type);
  std::vector<stream_info> out;
  db.each(query(o), params, [&](const row& r) {
    out.push_back({std::string{r.text(0)}, std::string{r.text(1)}, r.i64(2), r.i64(3), r.i64(4), r.i64(5), r.i64(6),
                   r.i64(7)});
    return true;
  });
  return out;
}

void print_json(const std::vector<stream_info>& streams) {
  auto all = nlohmann::ordered_json::array();
  for (const auto& s : streams)
    all.push_back({{"stream", s.type + "/" + s.id},
                   {"aggregate_type", s.type},
                   {"aggregate_id", s.id},
                   {"events", s.events},
                   {"version", s.version},
                   {"first_position", s.first_position},
                   {"last_position", s.last_position},
                   {"first_recorded_at", iso_time(s.first_us)},
                   {"last_recorded_at", iso_time(s.last_us)}});
  std::printf("%s\n", all.dump(1).c_str());
}

void print_table(const std::vector<stream_info>& streams, const output& out) {
  table t{{{"TYPE", false, paint_style::cyan},
           {"ID", false, paint_style::cyan},
           {"EVENTS", true},
           {"VERSION", true},
           {"FIRST", false, paint_style::dim},
           {"LAST", false, paint_style::dim}}};
  for (const auto& s : streams)
    t.add({s.type, s.id, std::to_string(s.events), std::to_string(s.version), iso_time(s.first_us, false),
           iso_time(s.last_us, false)});
  t.print(stdout, out);
}

}  // namespace

command add_streams(CLI::App& tool) {
  auto o = std::make_shared<streams_options>();
  auto* app = tool.add_subcommand("streams", "every stream: aggregate type, events, last version, first and last time");
  app->add_option("FILE", o->file, "the journal")->required();
  app->add_option("--type", o->type, "only streams of this aggregate type");
  app->add_option("--sort", o->sort, "id (type, id), events (most first), last (newest first), first (oldest first)")
      ->check(CLI::IsMember({"id", "events", "last", "first"}));
  app->add_option("--limit", o->limit, "at most this many streams");
  app->add_flag("--json", o->json, "one JSON array instead of a table");
  return {app, [o](const output& out) {
            const auto streams = read_streams(*o);
            o->json ? print_json(streams) : print_table(streams, out);
            return 0;
          }};
}

}  // namespace journal_cli
