// interlock-journal: what an operator does to a journal file from the shell.
// Today one command, `upgrade FILE`; the argument parsing is by hand until
// there are more (a CLI library pays off with subcommands and options).
#include <cstdio>
#include <string>
#include <string_view>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/persistence/sqlite_upgrade.hpp>

namespace {

constexpr const char* usage =
    "usage: interlock-journal upgrade FILE\n"
    "  upgrade FILE   rewrite a journal of an older format into the current one (format %d);\n"
    "                 the original is kept as FILE.format-N.bak. Stop every process using FILE first.\n";

int upgrade(const std::string& path) {
  auto report = interlock::upgrade_sqlite_journal(path);
  if (!report) {
    std::fprintf(stderr, "interlock-journal: %s\n", interlock::message_of(report.error()).c_str());
    return 1;
  }
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

int main(int argc, char** argv) {
  const std::string_view first = argc > 1 ? argv[1] : "";
  if (argc == 3 && first == "upgrade") return upgrade(argv[2]);
  const bool help = argc == 2 && (first == "--help" || first == "-h");
  std::fprintf(help ? stdout : stderr, usage, interlock::sqlite_journal_format_version);
  return help ? 0 : 2;
}
