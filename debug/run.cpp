// interlock::debug::run (runtime/debug.hpp): the command line, parsed with
// CLI11, handed to the command it names.
#include <interlock/runtime/debug.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace interlock::debug {

namespace {

using namespace detail;

// The exit status if parsing decided it: 0 after --help, 2 for a usage error.
std::optional<int> parse(CLI::App& cli, std::vector<std::string> args, std::ostream& out, std::ostream& err) {
  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
    cli.parse(args);
    return std::nullopt;
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    cli.exit(e, out, err);
    return 2;
  }
}

int run_parsed(const application_builder& builder, const std::string& name, const std::vector<std::string>& args,
               std::ostream& out, std::ostream& err, bool color) {
  CLI::App cli{"The time-travel console: an aggregate's state at any version or time, what each event changed, "
               "whether the snapshots and a read model agree with the journal, and a web view of it all (serve). Reads only.",
               name};
  cli.require_subcommand(1);
  cli.fallthrough();
  bool no_color = false;
  cli.add_flag("--no-color", no_color, "plain output even on a terminal (also: NO_COLOR set)");
  console c{builder, out, err, color};
  const std::vector<command> commands{add_replay(cli, c), add_step(cli, c), add_check_snapshots(cli, c),
                                      add_rebuild(cli, c)
#ifdef INTERLOCK_DEBUG_WEB  // built with cpp-httplib (debug/CMakeLists.txt)
                                      , add_serve(cli, c)
#endif
  };
  if (auto status = parse(cli, args, out, err)) return *status;
  if (no_color) c.set_color(false);
  for (const auto& cmd : commands) {
    if (!cmd.app->parsed()) continue;
    try {
      return cmd.run();
    } catch (const failure& f) {
      err << c.paint(name + ":", style::red) << " " << f.what() << "\n";
      return f.exit_code;
    } catch (const std::exception& e) {  // not foreseen: still a message and status 1
      err << c.paint(name + ":", style::red) << " " << e.what() << "\n";
      return 1;
    }
  }
  return 2;
}

}  // namespace

int run(const application_builder& builder, int argc, const char* const* argv) {
  std::string name = argc > 0 && argv[0] ? argv[0] : "debug";
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + std::max(argc, 0));
  const bool color = ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
  return run_parsed(builder, name, args, std::cout, std::cerr, color);
}

int run(const application_builder& builder, const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err) {
  return run_parsed(builder, "debug", args, out, err, false);
}

}  // namespace interlock::debug
