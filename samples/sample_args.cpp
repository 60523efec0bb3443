#include "sample_args.hpp"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/runtime/config.hpp>

caf::expected<sample_args> sample_args::try_parse(int argc, const char* const* argv, const std::string& default_db) {
  auto bad = [](std::string what) {
    return interlock::make_error(interlock::errc::invalid_argument, "command line: " + std::move(what));
  };
  constexpr std::string_view path_key = "--interlock.journal.database_path";
  constexpr std::string_view memory_key = "--interlock.journal.in_memory";

  std::optional<std::string> db;
  bool memory = false, path_option = false, memory_option = false;
  std::vector<std::string> forwarded;  // for apply_command_line, after argv[0] and the shorthands
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {  // the samples take nothing after it: apply_command_line returns it, refused below
      forwarded.insert(forwarded.end(), argv + i, argv + argc);
      break;
    } else if (arg == "--help" || arg == "-h") {
      sample_args out;
      out.help = true;
      return out;
    } else if (arg == "--memory") {
      if (memory) return bad("--memory given twice");
      memory = true;
    } else if (arg == "--db" || arg.starts_with("--db=")) {
      if (db) return bad("--db given twice");
      if (arg == "--db" && i + 1 < argc) db = argv[++i];
      else if (arg != "--db") db = std::string{arg.substr(5)};
      if (!db || db->empty()) return bad("--db needs a file path (--db PATH)");
    } else if (arg == "--config") {  // its file is the next argument, whatever it looks like
      forwarded.emplace_back(arg);
      if (i + 1 < argc) forwarded.emplace_back(argv[++i]);
    } else {
      auto is = [&](std::string_view key) {
        return arg.starts_with(key) && (arg.size() == key.size() || arg[key.size()] == '=');
      };
      path_option = path_option || is(path_key);
      memory_option = memory_option || is(memory_key);
      forwarded.emplace_back(arg);
    }
  }
  if (db && memory) return bad("--db and --memory contradict each other (a journal file, or none): give one");
  if (db && path_option)
    return bad("--db and " + std::string{path_key} + " both set journal.database_path: give one");
  if (memory && memory_option)
    return bad("--memory and " + std::string{memory_key} + " both set journal.in_memory: give one");

  // The shorthands go first, so that a trailing "--config" cannot take one as its file.
  std::vector<std::string> args{argc > 0 && argv[0] ? argv[0] : "sample"};
  if (db) args.push_back(std::string{path_key} + "=" + *db);
  if (memory) args.push_back(std::string{memory_key} + "=true");
  args.insert(args.end(), forwarded.begin(), forwarded.end());
  std::vector<const char*> ptrs;
  for (auto& a : args) ptrs.push_back(a.c_str());

  sample_args out;
  out.settings.database_path = default_db;
  auto rest = interlock::apply_command_line(static_cast<int>(ptrs.size()), ptrs.data(), out.settings);
  if (!rest) return std::move(rest.error());
  if (!rest->empty()) {
    auto& first = rest->front();
    if (first == "--") return bad("unexpected '--': the samples take no arguments of their own");
    return bad("unknown argument '" + first + "' (--help lists the options)");
  }
  return out;
}

sample_args sample_args::parse(int argc, char** argv, const std::string& default_db) {
  std::string program = program_name(argc > 0 ? argv[0] : nullptr);
  auto args = try_parse(argc, argv, default_db);
  if (!args) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), interlock::describe(args.error()).c_str());
    std::exit(2);
  }
  if (args->help) {
    std::fputs(usage(program, default_db).c_str(), stdout);
    std::fputs(interlock::config_help().c_str(), stdout);
    std::exit(0);
  }
  return std::move(*args);
}

std::string sample_args::usage(const std::string& program, const std::string& default_db) {
  return "usage: " + program +
         " [--db PATH | --memory] [--config=FILE] [--interlock.SECTION.KEY=VALUE ...] [--help]\n"
         "\n"
         "  --db PATH        the SQLite journal file (this sample's default: " + default_db + ");\n"
         "                   the same as --interlock.journal.database_path=PATH\n"
         "  --memory         keep the journal in memory, nothing survives the run;\n"
         "                   the same as --interlock.journal.in_memory=true\n"
         "  --config=FILE    settings from a config file (every option: config/interlock.conf)\n"
         "  --interlock.SECTION.KEY=VALUE\n"
         "                   one setting (format and options: config/README.md)\n"
         "  --help, -h       this text\n"
         "\n"
         "Precedence, lowest first: the defaults < the config file < the command line\n"
         "(--interlock.*, --db, --memory). Errors exit with status 2.\n"
         "\n";
}

std::string sample_args::program_name(const char* argv0) {
  std::string_view name = argv0 && *argv0 ? argv0 : "sample";
  if (auto slash = name.find_last_of('/'); slash != std::string_view::npos && slash + 1 < name.size())
    name.remove_prefix(slash + 1);
  return std::string{name};
}
