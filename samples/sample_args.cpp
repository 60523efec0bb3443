#include "sample_args.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <caf/settings.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/runtime/settings.hpp>
#include <interlock/runtime/system_config.hpp>

#include "sample_config.hpp"

namespace {

constexpr std::string_view path_key = "interlock.journal.database_path";
constexpr std::string_view memory_key = "interlock.journal.in_memory";
constexpr std::string_view postgres_key = "interlock.journal.postgres_url";

caf::error bad(std::string what) {
  return interlock::make_error(interlock::errc::invalid_argument, "command line: " + std::move(what));
}

std::string program_name(const char* argv0) {
  std::string_view name = argv0 && *argv0 ? argv0 : "sample";
  if (auto slash = name.find_last_of('/'); slash != std::string_view::npos && slash + 1 < name.size())
    name.remove_prefix(slash + 1);
  return std::string{name};
}

// CAF takes long options as --name=value only; "--db PATH" and
// "--postgres URL" are the samples'.
std::vector<std::string> joined_db_argument(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      args.insert(args.end(), argv + i, argv + argc);
      break;
    }
    // Not a flag after it: "--db --memory" is a --db without its value.
    if ((arg == "--db" || arg == "--postgres") && i + 1 < argc && argv[i + 1][0] != '-')
      args.push_back(std::string{arg} + "=" + argv[++i]);
    else args.emplace_back(arg);
  }
  return args;
}

bool given(const std::vector<std::string>& args, std::string_view flag) {
  for (auto& a : args)
    if (a == flag || (a.starts_with(flag) && a[flag.size()] == '=')) return true;
  return false;
}

bool wants_help(const std::vector<std::string>& args) {
  return given(args, "--help") || given(args, "-h") || given(args, "-?") || given(args, "--long-help");
}

}  // namespace

sample_config::sample_config(std::string default_db) : default_db_(std::move(default_db)) {
  interlock::add_options(*this);
  interlock::tune(*this);
  opt_group{custom_options_, "global"}
      .add<std::string>("db", "the SQLite journal file (this sample's default: " + default_db_ +
                                  "); = --interlock.journal.database_path")
      .add<bool>("memory", "the journal in memory, nothing survives the run; = --interlock.journal.in_memory=true")
      .add<std::string>("postgres", "the journal on a PostgreSQL server at this libpq URL (postgresql://...); "
                                    "= --interlock.journal.postgres_url")
      .add<bool>("status", "print each projection's and saga's status at the end");
}

bool sample_config::status() const { return flag("status"); }

void sample_config::add_flag(const char* name, const char* help) { opt_group{custom_options_, "global"}.add<bool>(name, help); }

bool sample_config::flag(const char* name) const { return caf::get_or(content, name, false); }

caf::error sample_config::parse_args(int argc, char** argv) {
  auto args = joined_db_argument(argc, argv);
  auto described = [this](const caf::error& err) {
    return interlock::make_error(interlock::errc::invalid_argument, interlock::describe_config_error(err, *this));
  };
  if (given(args, "--")) return bad("unexpected '--': the samples take no arguments of their own");
  if (wants_help(args)) {  // the help, whatever else the command line holds, once the INI file reads
    if (auto err = parse(string_list{})) return described(err);
    std::printf("usage: %s [--db=PATH | --memory | --postgres=URL] [--config-file=FILE]"
                " [--interlock.SECTION.KEY=VALUE ...]\n\n",
                program_name(argc > 0 ? argv[0] : nullptr).c_str());
    auto err = parse(string_list{given(args, "--long-help") ? "--long-help" : "--help"});
    return err ? described(err) : caf::error{};
  }
  if (auto err = parse(args)) return described(err);
  if (!remainder.empty()) return bad("unknown argument '" + remainder.front() + "' (--help lists the flags)");
  // After parse: CAF's INI reader replaces a whole section, so a default put
  // before it would be lost to any [interlock.journal] in the file.
  if (!caf::get_if<std::string>(&content, path_key)) caf::put(content, path_key, default_db_);
  auto db = caf::get_if<std::string>(&content, "db");
  bool memory = caf::get_or(content, "memory", false);
  if (db && db->empty()) return bad("--db needs a file path (--db PATH)");
  if (db && memory) return bad("--db and --memory contradict each other (a journal file, or none): give one");
  if (db && given(args, "--" + std::string{path_key}))
    return bad("--db and --" + std::string{path_key} + " both set the journal file: give one");
  if (memory && given(args, "--" + std::string{memory_key}))
    return bad("--memory and --" + std::string{memory_key} + " both set in_memory: give one");
  auto postgres = caf::get_if<std::string>(&content, "postgres");
  if (postgres && postgres->empty()) return bad("--postgres needs a server's URL (--postgres postgresql://...)");
  if (postgres && (db || memory))
    return bad(std::string{"--postgres and "} + (db ? "--db" : "--memory") +
               " contradict each other (one journal: a server, a file or none): give one");
  if (db) caf::put(content, path_key, *db);
  if (memory) caf::put(content, memory_key, std::string{"true"});
  if (postgres) caf::put(content, postgres_key, *postgres);
  auto settings = interlock::settings_from(*this);
  if (!settings) return std::move(settings.error());
  if (db && settings->in_memory)
    return bad("--db and interlock.journal.in_memory = true contradict each other (a journal file, or none): give one");
  return {};
}

void sample_config::parse_or_exit(int argc, char** argv, const char* after_help) {
  if (auto err = parse_args(argc, argv)) {
    std::fprintf(stderr, "%s: %s\n", program_name(argc > 0 ? argv[0] : nullptr).c_str(),
                 interlock::describe(err).c_str());
    std::exit(2);
  }
  if (help()) {
    if (after_help) std::printf("\n%s", after_help);
    std::exit(0);
  }
}

std::string sample_config::journal() const {
  auto s = interlock::settings_from(*this);
  return s ? journal_description(*s) : std::string{"?"};
}

// The URL is not printed: it may hold a password.
std::string journal_description(const interlock::runtime_settings& s) {
  if (s.in_memory) return "in memory";
  if (!s.postgres_url.empty()) {
    auto out = "PostgreSQL, schema " + s.postgres_schema;
    if (!s.read_store_in_memory && s.read_store_path.empty())  // the read store goes to the server too
      out += ", read side in schema " +
             (s.read_store_postgres_schema.empty() ? s.postgres_schema + "_read" : s.read_store_postgres_schema);
    return out;
  }
  return s.database_path;
}

sample_args sample_args::parse(int argc, char** argv, const std::string& default_db) {
  sample_config cfg{default_db};
  cfg.parse_or_exit(argc, argv);
  return {*interlock::settings_from(cfg), cfg.status()};
}

void print_status(const interlock::application& app) {
  auto all = app.status();
  if (!all) {
    std::printf("status: %s\n", interlock::describe(all.error()).c_str());
    return;
  }
  std::printf("\n%-28s %-12s %10s %10s %10s %7s\n", "projection", "state", "position", "checkpoint", "lag", "parked");
  for (auto& p : *all) {
    std::printf("%-28s %-12s %10llu %10llu %10llu %7zu\n", p.name.c_str(), interlock::to_string(p.state),
                static_cast<unsigned long long>(p.position), static_cast<unsigned long long>(p.checkpoint),
                static_cast<unsigned long long>(p.lag_events), p.parked);
    if (!p.failure.empty()) std::printf("  failed: %s\n", p.failure.c_str());
  }
}
