// `step STREAM [--from-version N] [--to-version M] [--json]`: each event of
// the stream in turn (position, version, type, time, payload) with the change
// it made to the aggregate's state: the diff of the state's JSON before and
// after it.
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "fold.hpp"
#include "json_diff.hpp"

namespace interlock::debug::detail {

namespace {

using json = nlohmann::json;

struct step_args {
  std::string stream;
  std::uint64_t from_version = 1;
  std::optional<std::uint64_t> to_version;
  bool json = false;
};

struct step {
  stored_event event;
  json before;
  json after;
};

// The steps of versions from..to, each with the state before and after it.
std::vector<step> steps_of(const console& c, journal& j, const stream_name& s, const step_args& a) {
  std::vector<step> steps;
  auto state = json::parse(state_json(*c.aggregate(s.type).make(s.id, {}), s.type));
  fold(c, j, s, as_of::version(a.to_version.value_or(std::numeric_limits<std::uint64_t>::max())),
       [&](const stored_event& e, const interlock::detail::aggregate_instance& instance) {
         auto after = json::parse(state_json(instance, s.type));
         if (e.version >= a.from_version) steps.push_back({e, state, after});
         state = std::move(after);
       });
  return steps;
}

void print_json(const console& c, const std::vector<step>& steps) {
  auto out = json::array();
  for (const auto& st : steps)
    out.push_back({{"position", st.event.position}, {"version", st.event.version}, {"type", st.event.event_type},
                   {"recorded_at", iso_time(st.event.recorded_at_us)}, {"payload", json::parse(st.event.payload)},
                   {"changes", json::diff(st.before, st.after)}});
  c.out() << out.dump(2) << "\n";
}

void print_text(const console& c, const std::vector<step>& steps) {
  for (const auto& st : steps) {
    c.out() << "position " << st.event.position << "  version " << st.event.version << "  "
            << c.paint(st.event.event_type, style::bold) << "  " << c.paint(iso_time(st.event.recorded_at_us), style::dim)
            << "\n  " << c.paint("payload", style::dim) << " " << st.event.payload << "\n";
    auto lines = describe_changes(st.before, st.after);
    if (lines.empty()) c.out() << "  " << c.paint("(the state did not change)", style::dim) << "\n";
    for (const auto& line : lines)
      c.out() << "  " << c.paint(line, line.starts_with("- ") ? style::red : style::green) << "\n";
  }
}

int run_step(const console& c, const step_args& a) {
  const auto stream = stream_name::parse(a.stream);
  if (a.to_version && *a.to_version < a.from_version)
    throw failure{"--to-version " + std::to_string(*a.to_version) + " is before --from-version " +
                      std::to_string(a.from_version),
                  2};
  auto j = c.open_journal();
  const auto steps = steps_of(c, *j, stream, a);
  if (steps.empty())
    throw failure{stream.text() + " has no event at version " + std::to_string(a.from_version) + " or after it"};
  if (a.json) print_json(c, steps);
  else print_text(c, steps);
  return 0;
}

}  // namespace

command add_step(CLI::App& cli, const console& c) {
  auto args = std::make_shared<step_args>();
  auto* app = cli.add_subcommand("step", "each event of a stream with the change it made to the state "
                                         "(a diff of the state's JSON before and after it)");
  app->add_option("STREAM", args->stream, "the stream, Type/id")->required();
  app->add_option("--from-version", args->from_version, "the first version to show (default 1)");
  app->add_option("--to-version", args->to_version, "the last version to show (default: the last)");
  app->add_flag("--json", args->json, "a JSON array: per event its envelope, payload and RFC 6902 changes");
  return {app, [&c, args] { return run_step(c, *args); }};
}

}  // namespace interlock::debug::detail
