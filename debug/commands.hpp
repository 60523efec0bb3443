// The console's commands, one file each in debug/. Each add_* registers its
// subcommand (arguments, --help) on the console's CLI11 app and returns how
// to run it once the command line is parsed: the exit status, or a
// `failure` (console.hpp) that run() reports. Internal.
#pragma once

#include <functional>

#include "console.hpp"

namespace CLI {
class App;
}

namespace interlock::debug::detail {

struct command {
  CLI::App* app;  // the subcommand: run() if it was given
  std::function<int()> run;
};

command add_replay(CLI::App& cli, const console& c);
command add_step(CLI::App& cli, const console& c);
command add_check_snapshots(CLI::App& cli, const console& c);
command add_rebuild(CLI::App& cli, const console& c);
command add_serve(CLI::App& cli, const console& c);

}  // namespace interlock::debug::detail
