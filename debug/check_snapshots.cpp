// `check-snapshots [--type T]`: every stored snapshot of a registered
// aggregate type against the state a full replay of its stream gives at its
// version. Prints each one that differs (the differing fields), does not
// decode or cannot be checked, then a summary; exit 1 if any differs.
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <interlock/core/errors.hpp>

#include "commands.hpp"
#include "fold.hpp"
#include "json_diff.hpp"
#include "sql_file.hpp"

namespace interlock::debug::detail {

namespace {

using json = nlohmann::json;

struct stored_snapshot {
  stream_name stream;
  snapshot_record record;
};

struct tally {
  std::size_t match = 0, differ = 0, skipped = 0;
};

std::vector<stored_snapshot> read_snapshots(const console& c, const std::optional<std::string>& type) {
  sql_file db{c.journal_path(), sql_file::mode::read_only, "journal"};
  std::vector<stored_snapshot> out;
  db.each("SELECT s.aggregate_type, s.aggregate_id, n.version, n.state_version, n.state FROM snapshots n "
          "JOIN streams s ON s.stream_key = n.stream_key WHERE ?1 = '' OR s.aggregate_type = ?1 "
          "ORDER BY s.aggregate_type, s.aggregate_id, n.version",
          {type.value_or("")}, [&](const std::vector<json>& r) {
            out.push_back({{r[0].get<std::string>(), r[1].get<std::string>()},
                           {r[2].get<std::uint64_t>(), r[3].get<std::uint32_t>(), r[4].get<std::string>(), 0}});
          });
  return out;
}

// The replayed state at each of `versions` of one stream (a failure if the stream does not fold).
std::map<std::uint64_t, json> replayed_at(const console& c, journal& j, const stream_name& s,
                                          const std::vector<std::uint64_t>& versions) {
  std::map<std::uint64_t, json> states;
  fold(c, j, s, as_of::version(versions.back()),
       [&](const stored_event& e, const interlock::detail::aggregate_instance& instance) {
         if (std::find(versions.begin(), versions.end(), e.version) != versions.end())
           states[e.version] = json::parse(state_json(instance, s.type));
       });
  return states;
}

void report(const console& c, const char* verdict, style st, const stored_snapshot& s, const std::string& why) {
  c.out() << c.paint(verdict, st) << "  " << s.stream.text() << "  version " << s.record.version;
  if (!why.empty()) c.out() << ": " << why;
  c.out() << "\n";
}

// Checks one snapshot against the replayed state at its version.
void check(const console& c, const stored_snapshot& s, const std::optional<json>& replayed, tally& t) {
  auto fresh = c.aggregate(s.stream.type).make(s.stream.id, {});
  if (auto err = fresh->restore(s.record); is(err, errc::schema_mismatch)) {
    ++t.skipped;
    return report(c, "SKIPPED ", style::yellow, s, message_of(err) + " (loading ignores it)");
  } else if (err) {
    ++t.differ;
    return report(c, "MISMATCH", style::red, s, "it does not decode: " + message_of(err));
  }
  if (!replayed) {
    ++t.differ;
    return report(c, "MISMATCH", style::red, s, "the stream has no such version");
  }
  auto lines = describe_changes(*replayed, json::parse(s.record.state));
  if (lines.empty()) return void(++t.match);
  ++t.differ;
  report(c, "MISMATCH", style::red, s, "the snapshot differs from the replay (replay -> snapshot):");
  for (const auto& line : lines) c.out() << "    " << line << "\n";
}

// Checks the snapshots of one stream (`first`..`last` in `all`).
void check_stream(const console& c, journal& j, const std::vector<stored_snapshot>& all, std::size_t first,
                  std::size_t last, tally& t) {
  const auto& stream = all[first].stream;
  std::vector<std::uint64_t> versions;
  for (auto i = first; i < last; ++i) versions.push_back(all[i].record.version);
  std::map<std::uint64_t, json> states;
  try {
    states = replayed_at(c, j, stream, versions);
  } catch (const failure& f) {
    for (auto i = first; i < last; ++i) report(c, "MISMATCH", style::red, all[i], std::string{"no replay: "} + f.what());
    t.differ += last - first;
    return;
  }
  for (auto i = first; i < last; ++i) {
    auto it = states.find(all[i].record.version);
    check(c, all[i], it == states.end() ? std::nullopt : std::optional<json>{it->second}, t);
  }
}

bool registered(const console& c, const std::string& type) {
  try {
    c.aggregate(type);
    return true;
  } catch (const failure&) {
    return false;
  }
}

int check_snapshots(const console& c, const std::optional<std::string>& type) {
  if (type) c.aggregate(*type);  // a failure naming it if it is not registered
  auto j = c.open_journal();
  const auto all = read_snapshots(c, type);
  tally t;
  for (std::size_t first = 0, last; first < all.size(); first = last) {
    for (last = first + 1; last < all.size() && all[last].stream.text() == all[first].stream.text(); ++last) {}
    if (registered(c, all[first].stream.type)) check_stream(c, *j, all, first, last, t);
    else t.skipped += last - first;  // another program's type
  }
  c.out() << (t.differ ? c.paint("FAILED", style::red) : c.paint("ok", style::green)) << ": " << all.size()
          << " snapshots: " << t.match << " match the replay, " << t.differ << " differ, " << t.skipped
          << " not checked\n";
  return t.differ ? 1 : 0;
}

}  // namespace

command add_check_snapshots(CLI::App& cli, const console& c) {
  auto type = std::make_shared<std::optional<std::string>>();
  auto* app = cli.add_subcommand("check-snapshots", "every stored snapshot against a full replay of its stream "
                                                    "at its version; exit 1 if any differs");
  app->add_option("--type", *type, "only this aggregate type's snapshots");
  return {app, [&c, type] { return check_snapshots(c, *type); }};
}

}  // namespace interlock::debug::detail
