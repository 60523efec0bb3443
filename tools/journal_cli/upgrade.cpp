// `upgrade FILE`: rewrites a journal of an older format into the current one
// (interlock::upgrade_sqlite_journal): the copy is checked event by event,
// the original kept as FILE.format-N.bak. A file in the current format is
// left alone. Writes the file: stop every process using it first.
#include <cstdio>

#include <CLI/CLI.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/persistence/sqlite_upgrade.hpp>

#include "commands.hpp"
#include "database.hpp"

namespace journal_cli {
namespace {

int upgrade(const std::string& path) {
  auto report = interlock::upgrade_sqlite_journal(path);
  if (!report) throw tool_error{interlock::message_of(report.error())};
  if (report->backup_path.empty()) {
    std::printf("%s is in format %d already: nothing to do\n", path.c_str(), report->from_format);
    return 0;
  }
  std::printf("upgraded %s from format %d to format %d: %llu events in %llu streams, checked; the original is %s\n",
              path.c_str(), report->from_format, interlock::sqlite_journal_format_version,
              static_cast<unsigned long long>(report->events), static_cast<unsigned long long>(report->streams),
              report->backup_path.c_str());
  return 0;
}

}  // namespace

command add_upgrade(CLI::App& tool) {
  auto file = std::make_shared<std::string>();
  const auto about = "rewrite a journal of an older format into the current one (format " +
                     std::to_string(interlock::sqlite_journal_format_version) +
                     "); the original is kept as FILE.format-N.bak. Stop every process using FILE first";
  auto* app = tool.add_subcommand("upgrade", about);
  app->add_option("FILE", *file, "the journal")->required();
  return {app, [file](const output&) { return upgrade(*file); }};
}

}  // namespace journal_cli
