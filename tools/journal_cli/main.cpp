// interlock-journal: what an operator does to a journal file from the shell.
// Subcommands (commands.hpp) read the file read-only unless they say
// otherwise (import, upgrade). Exit status: 0 done, 1 failed (the message on
// stderr names the file and the problem; `verify` found damage), 2 usage error.
#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "database.hpp"

namespace {

using namespace journal_cli;

int report(const tool_error& e, const output& out) {
  std::fprintf(stderr, "%s %s\n", paint("interlock-journal:", paint_style::red, out.color_err).c_str(), e.what());
  return e.exit_code;
}

// Usage error 2 for no command or an unknown one, with the list of commands.
std::optional<int> check_command(CLI::App& app, int argc, char** argv) {
  if (argc < 2) return std::fprintf(stderr, "%s", app.help().c_str()), 2;
  const std::string first = argv[1];
  std::string names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name(first)) return std::nullopt;
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  if (first.starts_with("-")) return std::nullopt;
  std::fprintf(stderr, "interlock-journal: unknown command '%s'; the commands: %s (--help for more)\n", first.c_str(),
               names.c_str());
  return 2;
}

// Parses the command line; the exit status if that already decided it (help, usage errors).
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  if (auto status = check_command(app, argc, argv)) return status;
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Reads, checks, exports and imports an Interlock journal file (SQLite, format 7).\n"
               "Read-only unless a command says otherwise: safe beside a running application.",
               "interlock-journal"};
  app.fallthrough();  // --no-color and --width after the subcommand too
  app.require_subcommand(1);
  bool no_color = false;
  std::optional<std::size_t> width;
  app.add_flag("--no-color", no_color, "plain output even on a terminal (also: NO_COLOR set)");
  app.add_option("--width", width, "cut tables to this many columns (0: never; default: the terminal's)");
  const std::vector<command> commands{add_streams(app), add_events(app),      add_tail(app),
                                      add_stats(app),   add_verify(app),      add_export(app),
                                      add_import(app),  add_projections(app), add_upgrade(app)};
  if (auto status = parse(app, argc, argv)) return *status;
  const auto out = detect_output(no_color, width);
  for (const auto& c : commands) {
    if (!c.app->parsed()) continue;
    try {
      return c.run(out);
    } catch (const tool_error& e) {
      return report(e, out);
    } catch (const std::exception& e) {  // not foreseen: still a message and status 1
      return report(tool_error{e.what()}, out);
    }
  }
  return 2;
}
