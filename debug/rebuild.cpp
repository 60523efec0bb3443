// `rebuild PROJECTION`: the read model built afresh from the journal, in a
// scratch copy, compared with the live one. A durable read model (tables)
// is rebuilt in a scratch SQLite file up to the live checkpoint and its
// tables compared row by row with the read store's; one in memory with
// read-model snapshots is rebuilt up to its stored snapshot's position and
// compared with that snapshot's JSON; one in memory without them cannot be
// compared from outside its program, and the console says so. Exit 1 if
// anything differs.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <set>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <interlock/actors/catchup_steps.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/persistence/read_db.hpp>
#include <interlock/runtime/detail/builder_access.hpp>

#include "commands.hpp"
#include "json_diff.hpp"
#include "rebuild_tables.hpp"
#include "sql_file.hpp"

namespace interlock::debug::detail {

namespace {

using json = nlohmann::json;
using interlock::detail::projection_instance;
using interlock::detail::projection_kind;

constexpr std::size_t chunk = 4096;

// What the read store holds of the live read model.
struct live_side {
  std::unique_ptr<sql_file> store;  // null: no read store file
  std::uint64_t position = 0;  // its checkpoint (0: none)
  std::optional<std::uint32_t> state_version;
  std::optional<std::string> state;  // an in-memory read model's stored snapshot
  std::set<std::uint64_t> parked;
};

live_side read_live(const console& c, const std::string& name) {
  live_side live;
  const auto path = c.read_store_path();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return live;
  live.store = std::make_unique<sql_file>(path, sql_file::mode::read_only, "read store");
  if (live.store->has_table("projection_checkpoints"))
    live.store->each("SELECT position, state_version, state FROM projection_checkpoints WHERE projection = ?", {name},
                     [&](const std::vector<json>& r) {
                       live.position = r[0].get<std::uint64_t>();
                       live.state_version = r[1].get<std::uint32_t>();
                       if (!r[2].is_null()) live.state = r[2].get<std::string>();
                     });
  if (live.store->has_table("parked_events"))
    live.store->each("SELECT position FROM parked_events WHERE projection = ?", {name},
                     [&](const std::vector<json>& r) { live.parked.insert(r[0].get<std::uint64_t>()); });
  return live;
}

// Applies the journal's events through position `through` (parked ones passed over); how many it read.
std::uint64_t feed(journal& j, const application_builder& b, const projection_kind& kind, projection_instance& inst,
                   std::uint64_t through, const std::set<std::uint64_t>& parked) {
  const auto& upcasters = interlock::detail::builder_access::upcasters(b);
  const log_filter filter{kind.aggregate_types, {}};
  event_envelope scratch;
  caf::error failed;
  std::uint64_t next = 1, read = 0;
  for (bool more = through > 0; more && !failed;) {
    auto scanned = j.scan_filtered(next, chunk, filter, [&](const event_view& e) {
      if (e.position > through) return more = false;
      next = e.position + 1;
      ++read;
      if (parked.count(e.position)) return true;
      failed = interlock::detail::guarded(e, [&] {
        return interlock::detail::upcast_then(upcasters, e, [&](const event_view& v, bool) { return inst.apply(v, scratch); });
      });
      return !failed;
    });
    if (!scanned) throw failure{"reading the journal: " + message_of(scanned.error())};
    more = more && *scanned == chunk;
  }
  if (failed) throw failure{"rebuilding " + kind.type_name + ": " + message_of(failed)};
  return read;
}

std::uint64_t journal_end(journal& j) {
  auto last = j.last_position();
  if (!last) throw failure{"reading the journal: " + message_of(last.error())};
  return *last;
}

std::string parked_note(const live_side& live) {
  return live.parked.empty() ? "" : " (passing over its " + std::to_string(live.parked.size()) + " parked events)";
}

int rebuild_durable(const console& c, journal& j, const projection_kind& kind, const live_side& live) {
  if (!live.store) throw failure{"no read store at '" + c.read_store_path() + "': " + kind.type_name + "'s live tables are there"};
  scratch_db scratch;
  read_db db{scratch.file().handle()};
  auto inst = kind.make();
  inst->attach(&db);
  scratch.file().exec("BEGIN");
  if (auto err = inst->create_tables()) throw failure{kind.type_name + ": create(read_db&) failed: " + message_of(err)};
  feed(j, c.builder(), kind, *inst, live.position, live.parked);
  scratch.file().exec("COMMIT");
  c.out() << "rebuilt " << c.paint(kind.type_name, style::bold) << " from the journal through position "
          << live.position << " (its checkpoint)" << parked_note(live) << " in a scratch copy; against "
          << live.store->path() << ":\n";
  const auto differences = compare_tables(c, scratch.file(), *live.store);
  return differences ? 1 : 0;
}

int compare_snapshot(const console& c, const projection_kind& kind, const projection_instance& inst,
                     const live_side& live) {
  auto rebuilt = inst.snapshot();
  if (!rebuilt) throw failure{kind.type_name + ": " + message_of(rebuilt.error())};
  auto lines = describe_changes(json::parse(*live.state), json::parse(*rebuilt));
  for (const auto& line : lines) c.out() << "  " << c.paint(line, style::yellow) << "\n";
  c.out() << (lines.empty() ? c.paint("no differences", style::green)
                            : c.paint(std::to_string(lines.size()) + " differences", style::red))
          << " (stored snapshot -> rebuilt)\n";
  return lines.empty() ? 0 : 1;
}

int rebuild_in_memory(const console& c, journal& j, const projection_kind& kind, const live_side& live) {
  auto inst = kind.make();
  if (live.state && live.state_version == kind.state_version) {
    feed(j, c.builder(), kind, *inst, live.position, live.parked);
    c.out() << "rebuilt " << c.paint(kind.type_name, style::bold) << " from the journal through position "
            << live.position << parked_note(live) << "; against its read-model snapshot in " << live.store->path()
            << ":\n";
    return compare_snapshot(c, kind, *inst, live);
  }
  const auto read = feed(j, c.builder(), kind, *inst, journal_end(j), live.parked);
  c.out() << "rebuilt " << c.paint(kind.type_name, style::bold) << " from the " << read << " events of the journal.\n"
          << "It cannot be compared: "
          << (live.state ? "its stored snapshot has state_version " + std::to_string(*live.state_version) +
                               ", the type's is " + std::to_string(kind.state_version)
                         : "it keeps its read model in the running program's memory only (no snapshot_every, or "
                           "no snapshot stored yet)")
          << ".\n";
  if (auto state = inst->snapshot()) c.out() << "The rebuilt read model:\n" << json::parse(*state).dump(2) << "\n";
  else c.out() << "(it has no JSON form to show: INTERLOCK_JSON on the projection gives it one)\n";
  return 0;
}

int rebuild(const console& c, const std::string& name) {
  const auto& kind = c.projection(name);
  auto j = c.open_journal();
  auto live = read_live(c, name);
  return kind.durable ? rebuild_durable(c, *j, kind, live) : rebuild_in_memory(c, *j, kind, live);
}

}  // namespace

command add_rebuild(CLI::App& cli, const console& c) {
  auto name = std::make_shared<std::string>();
  auto* app = cli.add_subcommand("rebuild", "rebuild a read model from the journal in a scratch copy and show how "
                                            "it differs from the live one; exit 1 if it does");
  app->add_option("PROJECTION", *name, "the projection's name (its type_name)")->required();
  return {app, [&c, name] { return rebuild(c, *name); }};
}

}  // namespace interlock::debug::detail
