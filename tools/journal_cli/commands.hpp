// interlock-journal's subcommands, one file each under tools/journal_cli/.
// Each add_* registers its subcommand (options, --help) on the tool's app and
// returns how to run it once the command line is parsed: the exit status, or
// a tool_error (database.hpp) that main() reports.
#pragma once

#include <functional>
#include <vector>

#include "output.hpp"

namespace CLI {
class App;
}

namespace journal_cli {

struct command {
  CLI::App* app;                           // the subcommand: run() if it was given
  std::function<int(const output&)> run;
};

command add_streams(CLI::App& tool);
command add_events(CLI::App& tool);
command add_tail(CLI::App& tool);
command add_stats(CLI::App& tool);
command add_verify(CLI::App& tool);
command add_export(CLI::App& tool);
command add_import(CLI::App& tool);
command add_projections(CLI::App& tool);
command add_upgrade(CLI::App& tool);

}  // namespace journal_cli
