// `projections PATH`: the read side as the read store holds it: each
// projection's checkpoint (position, lag behind the journal, snapshot size,
// when saved, parked events), then every parked event. PATH is a read store,
// or a journal whose read store is beside it ("x.db" -> "x.read.db"); the
// journal for the lag is PATH, --journal, or the file beside a read store
// ("x.read.db" -> "x.db") if there is one. --json: one object
//   {"read_store","journal","last_position","projections":[{"projection","position","lag",
//    "state_version","state_bytes","saved_at","parked"}],"parked":[{"projection","position",
//    "stream","version","event_type","attempts","parked_at","error"}]}
// (lag, journal and last_position null without a journal).
// --replay-parked NAME does not replay: applying a parked event runs the
// projection's handler, which only the application has (and a durable read
// model's write must be atomic with its checkpoint in the running store), so
// it says to call application::replay_parked() and exits 1.
#include <algorithm>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <interlock/persistence/read_store.hpp>

#include "commands.hpp"
#include "read_side.hpp"

namespace journal_cli {
namespace {

using json = nlohmann::ordered_json;

struct projections_options {
  std::string path;
  std::string journal;
  std::string replay;
  bool json = false;
};

struct read_side {
  std::string store_path, journal_path;
  std::optional<std::uint64_t> last_position;
  std::vector<checkpoint_row> checkpoints;
  std::vector<parked_row> parked;
};

// The journal beside read store "x.read.db" ("x.db"), if it is there.
std::string journal_beside(const std::string& store) {
  constexpr std::string_view suffix = ".read.db";
  if (!store.ends_with(suffix)) return {};
  auto path = store.substr(0, store.size() - suffix.size()) + ".db";
  return file_has_table(path, "journal_meta") ? path : std::string{};
}

// Which files PATH and --journal name: {read store, journal or ""}.
std::pair<std::string, std::string> locate(const projections_options& o) {
  if (file_has_table(o.path, "journal_meta")) {
    auto store = read_store_beside(o.path);
    if (store.empty())
      throw tool_error{"journal '" + o.path + "' has no read store beside it ('" + interlock::read_store_path_for(o.path) +
                       "' does not exist); pass the read store's path"};
    return {store, o.path};
  }
  return {o.path, o.journal.empty() ? journal_beside(o.path) : o.journal};
}

read_side load(const projections_options& o) {
  read_side r;
  std::tie(r.store_path, r.journal_path) = locate(o);
  auto store = open_read_store(r.store_path);
  r.checkpoints = read_checkpoints(store);
  r.parked = read_parked(store);
  if (!r.journal_path.empty()) {
    auto journal = open_journal(r.journal_path);
    r.last_position = static_cast<std::uint64_t>(journal.scalar("SELECT coalesce(max(global_position), 0) FROM events"));
  }
  return r;
}

std::size_t parked_of(const read_side& r, const std::string& projection) {
  return static_cast<std::size_t>(
      std::count_if(r.parked.begin(), r.parked.end(), [&](const parked_row& p) { return p.projection == projection; }));
}

json lag_of(const read_side& r, std::uint64_t position) {
  if (!r.last_position) return nullptr;
  return static_cast<std::int64_t>(*r.last_position) - static_cast<std::int64_t>(position);
}

void print_json(const read_side& r) {
  json j{{"read_store", r.store_path},
         {"journal", r.journal_path.empty() ? json(nullptr) : json(r.journal_path)},
         {"last_position", r.last_position ? json(*r.last_position) : json(nullptr)}};
  j["projections"] = json::array();
  for (const auto& c : r.checkpoints)
    j["projections"].push_back({{"projection", c.projection}, {"position", c.position}, {"lag", lag_of(r, c.position)},
                                {"state_version", c.state_version}, {"state_bytes", c.state_bytes},
                                {"saved_at", iso_time(c.saved_at_us)}, {"parked", parked_of(r, c.projection)}});
  j["parked"] = json::array();
  for (const auto& p : r.parked)
    j["parked"].push_back({{"projection", p.projection}, {"position", p.position}, {"stream", p.stream},
                           {"version", p.version}, {"event_type", p.event_type}, {"attempts", p.attempts},
                           {"parked_at", iso_time(p.parked_at_us)}, {"error", p.error}});
  std::printf("%s\n", j.dump(1).c_str());
}

void print_checkpoints(const read_side& r, const output& out) {
  std::printf("read store %s, journal %s\n", r.store_path.c_str(),
              r.journal_path.empty() ? "unknown (--journal PATH for the lag)"
                                     : (r.journal_path + " at position " + std::to_string(*r.last_position)).c_str());
  table t{{{"PROJECTION", false, paint_style::cyan}, {"POSITION", true}, {"LAG", true},
           {"SNAPSHOT", true}, {"SAVED", false, paint_style::dim}, {"PARKED", true}}};
  for (const auto& c : r.checkpoints) {
    const auto lag = lag_of(r, c.position);
    t.add({c.projection, std::to_string(c.position), lag.is_null() ? "?" : lag.dump(),
           c.state_bytes == 0 ? "-" : human_size(c.state_bytes), iso_time(c.saved_at_us, false),
           std::to_string(parked_of(r, c.projection))});
  }
  t.print(stdout, out);
}

void print_parked(const read_side& r, const output& out) {
  if (r.parked.empty()) return std::printf("\nno parked events\n"), void();
  std::printf("\nparked events:\n");
  table t{{{"PROJECTION", false, paint_style::cyan}, {"POSITION", true}, {"STREAM", false, paint_style::cyan},
           {"VERSION", true}, {"TYPE", false, paint_style::green}, {"ATTEMPTS", true},
           {"PARKED AT", false, paint_style::dim}, {"ERROR", false, paint_style::red}}};
  for (const auto& p : r.parked)
    t.add({p.projection, std::to_string(p.position), p.stream, std::to_string(p.version), p.event_type,
           std::to_string(p.attempts), iso_time(p.parked_at_us, false), p.error});
  t.print(stdout, out);
}

int refuse_replay(const projections_options& o) {
  const auto r = load(o);
  std::string positions;
  for (const auto& p : r.parked)
    if (p.projection == o.replay) positions += (positions.empty() ? "" : ", ") + std::to_string(p.position);
  throw tool_error{"--replay-parked cannot be done from here: applying a parked event runs projection '" + o.replay +
                   "''s handler, which lives in the application. Call app->replay_parked(\"" + o.replay +
                   "\", position) from the application (its parked events: " +
                   (positions.empty() ? "none" : "positions " + positions) + ")"};
}

}  // namespace

command add_projections(CLI::App& tool) {
  auto o = std::make_shared<projections_options>();
  auto* app = tool.add_subcommand("projections", "checkpoints, lag and parked events of the read side");
  app->add_option("PATH", o->path, "the read store, or the journal beside it")->required();
  app->add_option("--journal", o->journal, "the journal, for the lag (default: beside the read store)");
  app->add_option("--replay-parked", o->replay, "not offline: says how to replay projection NAME's parked events");
  app->add_flag("--json", o->json, "one JSON object instead of tables");
  return {app, [o](const output& out) {
            if (!o->replay.empty()) return refuse_replay(*o);
            const auto r = load(*o);
            if (o->json) return print_json(r), 0;
            print_checkpoints(r, out);
            print_parked(r, out);
            return 0;
          }};
}

}  // namespace journal_cli
