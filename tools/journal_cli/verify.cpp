// `verify FILE`: checks a journal from its events, the truth, in one pass in
// position order (the stream and type indexes are caches: not checked, but
// the copies filtered reads return are):
//  - global positions run 1, 2, 3, ... without a gap;
//  - every event's stream has a row, each stream's versions run 1, 2, 3, ...
//    (a gap, a version stored twice or going backwards is named), and a
//    stream's first_position is its first event's;
//  - every payload and snapshot state is valid JSON;
//  - every snapshot is within its stream's versions, every command's
//    positions within the log;
//  - every category copy (log_copies, which filtered reads return) holds
//    exactly its log_runs row's events, as the events table has them;
//  - the read store's checkpoints and parked events (--read-store PATH, else
//    the file beside the journal if any) are within the log.
// Prints each problem on its own line naming stream, version and position
// (the first 1,000; all are counted), then a summary; exit status 1 if there
// is any problem, 0 if none. --json: one object {"ok","problems":[...],
// "events","streams","snapshots","commands","checkpoints","last_position"}.
// A progress bar on stderr when stderr is a terminal.
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <interlock/persistence/sqlite/event_copies.hpp>
#include <interlock/persistence/sqlite/runs.hpp>

#include "commands.hpp"
#include "read_side.hpp"

namespace journal_cli {
namespace {

constexpr std::size_t problems_kept = 1000;

struct verify_options {
  std::string file;
  std::string read_store;
  bool json = false;
};

struct stream_state {
  std::string name;
  std::uint64_t first_position = 0;  // as the streams row says
  std::uint64_t first_seen = 0;      // position of its first event
  std::uint64_t version = 0;         // of its last event
  std::uint64_t position = 0;        // of its last event
};

struct findings {
  std::vector<std::string> problems;
  std::size_t count = 0;
  std::uint64_t events = 0, streams = 0, snapshots = 0, commands = 0, checkpoints = 0, last_position = 0;
  void add(std::string problem) {
    if (++count <= problems_kept) problems.push_back(std::move(problem));
  }
};

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

std::string range(std::uint64_t first, std::uint64_t last, const char* one, const char* many) {
  return first == last ? std::string{one} + " " + std::to_string(first)
                       : std::string{many} + " " + std::to_string(first) + ".." + std::to_string(last);
}

// nlohmann's parse error for `text` without its "[json.exception...] " prefix; "" if it is valid JSON.
std::string json_problem(std::string_view text) {
  if (nlohmann::json::accept(text)) return {};
  try {
    [[maybe_unused]] const auto parsed = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    const auto end = what.find("] ");
    return end == std::string::npos ? what : what.substr(end + 2);
  }
  return "not valid JSON";
}

std::map<std::int64_t, stream_state> load_streams(database& db) {
  std::map<std::int64_t, stream_state> out;
  db.each("SELECT stream_key, aggregate_type || '/' || aggregate_id, first_position FROM streams", {},
          [&](const row& r) { return out[r.i64(0)] = {std::string{r.text(1)}, r.u64(2)}, true; });
  return out;
}

void check_position(std::uint64_t position, std::uint64_t previous, findings& f) {
  if (position == previous + 1) return;
  if (position <= previous) {  // cannot happen with an INTEGER PRIMARY KEY read in order; said if it does
    f.add("global position " + std::to_string(position) + " follows position " + std::to_string(previous));
    return;
  }
  const auto after = previous == 0 ? "the log starts at position " + std::to_string(position)
                                   : "position " + std::to_string(position) + " follows position " +
                                         std::to_string(previous);
  f.add(range(previous + 1, position - 1, "global position", "global positions") + " missing: " + after);
}

void check_version(stream_state& s, std::uint64_t position, std::uint64_t version, findings& f) {
  const auto here = "version " + std::to_string(version) + " at position " + std::to_string(position);
  if (s.first_seen == 0) {
    s.first_seen = position;
    if (version != 1) f.add("stream " + in_quotes(s.name) + ": its first event, " + here + ", is not version 1");
  } else if (version != s.version + 1) {
    const auto why = version == s.version ? std::string{"stored twice"}
                     : version < s.version ? std::string{"versions go backwards"}
                                           : range(s.version + 1, version - 1, "version", "versions") + " missing";
    f.add("stream " + in_quotes(s.name) + ": " + here + " follows version " + std::to_string(s.version) +
          " at position " + std::to_string(s.position) + " (" + why + ")");
  }
  s.version = version;
  s.position = position;
}

void check_events(database& db, std::map<std::int64_t, stream_state>& streams, findings& f) {
  progress_bar bar{"verify", f.last_position};
  std::uint64_t previous = 0;
  db.each("SELECT global_position, stream_key, version, payload FROM events ORDER BY global_position", {},
          [&](const row& r) {
            const auto position = r.u64(0);
            check_position(position, previous, f);
            previous = position;
            ++f.events;
            bar.update(position);
            const auto it = streams.find(r.i64(1));
            if (it == streams.end()) {
              f.add("position " + std::to_string(position) + ": stream key " + std::to_string(r.i64(1)) +
                    " has no row in the streams table");
              return true;
            }
            check_version(it->second, position, r.u64(2), f);
            if (auto problem = json_problem(r.text(3)); !problem.empty())
              f.add("stream " + in_quotes(it->second.name) + " version " + std::to_string(r.u64(2)) + " at position " +
                    std::to_string(position) + ": the payload is not valid JSON (" + problem + ")");
            return true;
          });
}

void check_streams(const std::map<std::int64_t, stream_state>& streams, findings& f) {
  for (const auto& [key, s] : streams) {
    if (s.first_seen == 0)
      f.add("stream " + in_quotes(s.name) + " (key " + std::to_string(key) + ") has no events");
    else if (s.first_seen != s.first_position)
      f.add("stream " + in_quotes(s.name) + ": its streams row says its first event is at position " +
            std::to_string(s.first_position) + ", it is at position " + std::to_string(s.first_seen));
  }
}

void check_snapshots(database& db, const std::map<std::int64_t, stream_state>& streams, findings& f) {
  db.each("SELECT stream_key, version, state FROM snapshots ORDER BY stream_key, version", {}, [&](const row& r) {
    ++f.snapshots;
    const auto version = r.u64(1);
    const auto it = streams.find(r.i64(0));
    const auto what = "the snapshot at version " + std::to_string(version);
    if (it == streams.end())
      return f.add(what + " belongs to stream key " + std::to_string(r.i64(0)) + ", which has no row in the streams table"),
             true;
    const auto& s = it->second;
    if (version == 0 || version > s.version)
      f.add("stream " + in_quotes(s.name) + ": " + what + " is not within the stream's versions 1.." +
            std::to_string(s.version));
    if (auto problem = json_problem(r.text(2)); !problem.empty())
      f.add("stream " + in_quotes(s.name) + ": " + what + " is not valid JSON (" + problem + ")");
    return true;
  });
}

void check_commands(database& db, findings& f) {
  db.each("SELECT command_id, first_position, last_position FROM commands", {}, [&](const row& r) {
    ++f.commands;
    if (r.u64(2) > f.last_position || r.u64(1) > r.u64(2))
      f.add("command " + in_quotes(std::string{r.text(0)}) + ": its events at positions " + std::to_string(r.u64(1)) +
            ".." + std::to_string(r.u64(2)) + " are not within the log (last position " +
            std::to_string(f.last_position) + ")");
    return true;
  });
}

// One event of a copy against the events table; what differs, or "".
std::string copy_difference(database& db, const interlock::event_view& copy) {
  std::string differs = "it is not in the events table";
  db.each("SELECT e.version, e.schema_version, e.recorded_at, s.aggregate_type, s.aggregate_id, e.event_type,"
          " e.payload, e.command_id, coalesce(e.correlation_id, e.command_id), e.causation_id"
          " FROM events e JOIN streams s USING (stream_key) WHERE e.global_position = ?1",
          {static_cast<std::int64_t>(copy.position)}, [&](const row& r) {
            const std::pair<bool, const char*> fields[] = {
                {r.u64(0) == copy.version, "version"},
                {r.u64(1) == copy.schema_version, "schema version"},
                {r.i64(2) == copy.recorded_at_us, "time"},
                {r.text(3) == copy.aggregate_type, "aggregate type"},
                {r.text(4) == copy.aggregate_id, "aggregate id"},
                {r.text(5) == copy.event_type, "event type"},
                {r.text(6) == copy.payload, "payload"},
                {r.text(7) == copy.command_id, "command id"},
                {r.text(8) == copy.correlation_id, "correlation id"},
                {r.text(9) == copy.causation_id, "causation id"}};
            differs.clear();
            int count = 0;
            for (const auto& [same, name] : fields)
              if (!same) differs += (count++ == 0 ? "its " : ", ") + std::string{name};
            if (count > 0) differs += count == 1 ? " differs from the events table's" : " differ from the events table's";
            return false;
          });
  return differs;
}

void check_copies(database& db, findings& f) {
  if (!db.has_table("log_copies")) return;
  db.each("SELECT r.first_position, r.offsets, c.events, k.aggregate_type, k.event_type FROM log_copies c"
          " JOIN log_runs r USING (type_key, first_position) JOIN type_keys k USING (type_key)",
          {}, [&](const row& r) {
            const auto where = "the category copy of " + std::string{r.text(3)} + "/" + std::string{r.text(4)} +
                               " from position " + std::to_string(r.u64(0));
            interlock::sqlite::copy_reader reader{r.text(2), r.text(1), interlock::sqlite::span_of(r.u64(0))};
            interlock::event_view v;
            while (reader.next(v)) {
              v.aggregate_type = r.text(3);
              v.event_type = r.text(4);
              if (auto problem = copy_difference(db, v); !problem.empty())
                f.add(where + ": position " + std::to_string(v.position) + ": " + problem);
            }
            if (!reader.valid()) f.add(where + ": does not hold the positions log_runs lists for it");
            return true;
          });
}

void check_read_store(const verify_options& o, findings& f) {
  auto store = read_store_for(o.file, o.read_store);
  if (!store) return;
  const auto here = "read store " + in_quotes(store->path()) + ": projection ";
  const auto past = ", past the journal's last position " + std::to_string(f.last_position);
  for (const auto& c : read_checkpoints(*store)) {
    ++f.checkpoints;
    if (c.position > f.last_position)
      f.add(here + in_quotes(c.projection) + " has its checkpoint at position " + std::to_string(c.position) + past);
  }
  for (const auto& p : read_parked(*store))
    if (p.position > f.last_position)
      f.add(here + in_quotes(p.projection) + " parked an event at position " + std::to_string(p.position) + past);
}

findings verify(const verify_options& o) {
  auto db = open_journal(o.file);
  findings f;
  f.last_position = static_cast<std::uint64_t>(db.scalar("SELECT coalesce(max(global_position), 0) FROM events"));
  auto streams = load_streams(db);
  f.streams = streams.size();
  check_events(db, streams, f);
  check_streams(streams, f);
  check_snapshots(db, streams, f);
  check_commands(db, f);
  check_copies(db, f);
  check_read_store(o, f);
  return f;
}

void print_json(const findings& f) {
  nlohmann::ordered_json j{{"ok", f.count == 0},          {"problems", f.problems},   {"problem_count", f.count},
                           {"events", f.events},          {"streams", f.streams},     {"snapshots", f.snapshots},
                           {"commands", f.commands},      {"checkpoints", f.checkpoints},
                           {"last_position", f.last_position}};
  std::printf("%s\n", j.dump(1).c_str());
}

void print_text(const verify_options& o, const findings& f, const output& out) {
  for (const auto& p : f.problems) std::printf("%s\n", p.c_str());
  if (f.count > f.problems.size()) std::printf("... and %zu more\n", f.count - f.problems.size());
  const auto checked = std::to_string(f.events) + " events (last position " + std::to_string(f.last_position) +
                       ") in " + std::to_string(f.streams) + " streams, " + std::to_string(f.snapshots) +
                       " snapshots, " + std::to_string(f.commands) + " commands, " + std::to_string(f.checkpoints) +
                       " checkpoints checked";
  if (f.count == 0)
    std::printf("%s %s: %s\n", paint("OK", paint_style::green, out.color).c_str(), o.file.c_str(), checked.c_str());
  else
    std::printf("%s %s: %zu problems; %s\n", paint("FAILED", paint_style::red, out.color).c_str(), o.file.c_str(),
                f.count, checked.c_str());
}

}  // namespace

command add_verify(CLI::App& tool) {
  auto o = std::make_shared<verify_options>();
  auto* app = tool.add_subcommand("verify", "check positions, versions, payloads, snapshots and checkpoints; "
                                            "exit 1 naming each problem");
  app->add_option("FILE", o->file, "the journal")->required();
  app->add_option("--read-store", o->read_store, "the read store (default: FILE with .db replaced by .read.db, if there)");
  app->add_flag("--json", o->json, "one JSON object instead of text");
  return {app, [o](const output& out) {
            const auto f = verify(*o);
            o->json ? print_json(f) : print_text(*o, f, out);
            return f.count == 0 ? 0 : 1;
          }};
}

}  // namespace journal_cli
