// `replay STREAM [--to-version N | --at TIME] [--json]`: the aggregate's
// state after folding its events up to the bound, as JSON (the form its
// snapshots take), with the version and global position it reflects.
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "fold.hpp"

namespace interlock::debug::detail {

namespace {

struct replay_args {
  std::string stream;
  std::optional<std::uint64_t> to_version;
  std::optional<std::string> at;
  bool json = false;
};

as_of bound_of(const replay_args& a) {
  if (a.to_version) return as_of::version(*a.to_version);
  if (a.at) return as_of{std::numeric_limits<std::uint64_t>::max(), parse_time(*a.at)};
  return as_of::latest();
}

nlohmann::json position_of(const fold_result& r) {
  return r.last ? nlohmann::json(r.last->position) : nlohmann::json(nullptr);
}

int replay(const console& c, const replay_args& a) {
  const auto stream = stream_name::parse(a.stream);
  const auto bound = bound_of(a);
  auto j = c.open_journal();
  const auto r = fold(c, *j, stream, bound);
  const auto state = nlohmann::json::parse(state_json(*r.instance, stream.type));
  const auto version = r.instance->version();
  if (a.json) {
    nlohmann::json out{{"stream", stream.text()}, {"version", version}, {"position", position_of(r)},
                       {"recorded_at", r.last ? nlohmann::json(iso_time(r.last->recorded_at_us)) : nullptr},
                       {"state", state}};
    c.out() << out.dump(2) << "\n";
    return 0;
  }
  c.out() << c.paint(stream.text(), style::bold) << "  version " << version;
  if (r.last) c.out() << "  position " << r.last->position << "  " << c.paint(iso_time(r.last->recorded_at_us), style::dim);
  else c.out() << "  " << c.paint("(no event within the bound: the initial state)", style::dim);
  c.out() << "\n" << state.dump(2) << "\n";
  return 0;
}

}  // namespace

command add_replay(CLI::App& cli, const console& c) {
  auto args = std::make_shared<replay_args>();
  auto* app = cli.add_subcommand("replay", "the aggregate's state (JSON) after its events up to a version or a time, "
                                           "folded from the journal (no snapshot is used)");
  app->add_option("STREAM", args->stream, "the stream, Type/id")->required();
  auto* to = app->add_option("--to-version", args->to_version, "the last version to apply (default: all)");
  app->add_option("--at", args->at, "apply the events recorded at or before this ISO-8601 time (UTC unless it says)")
      ->excludes(to);
  app->add_flag("--json", args->json, "one JSON object: stream, version, position, recorded_at, state");
  return {app, [&c, args] { return replay(c, *args); }};
}

}  // namespace interlock::debug::detail
