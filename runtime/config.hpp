// The runtime's configuration file and command line (format: config/README.md,
// example with every default: config/interlock.conf).
//
//   # comment
//   [journal]
//   database_path = "data/interlock.db"   # strings quoted or bare
//   max_batch = 1024
//   group_commit_wait = 0us               # durations take a unit: us, ms, s, min
//
// Precedence, lowest first: runtime_settings{} < config file < command line
// (--interlock.SECTION.KEY=VALUE) < the builder's methods called after
// .settings(s). Unknown keys and bad values are errors (errc::invalid_argument)
// whose message names the source, the line and the key.
//
//   interlock::runtime_settings s;
//   auto rest = interlock::apply_command_line(argc, argv, s);   // --config=FILE too
//   if (!rest) { std::cerr << interlock::describe(rest.error()) << '\n'; return 2; }
//   auto app = interlock::application_builder{sys}.settings(s).aggregate<A>().build();
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <interlock/runtime/application_builder.hpp>  // runtime_settings

namespace interlock {

/// One configuration option. The table of them drives the parser, the help
/// text and the printed settings, so none of them can drift from the others.
struct config_option {
  std::string_view key;      // "journal.max_batch": [journal] max_batch = ..., --interlock.journal.max_batch=...
  std::string_view field;    // the runtime_settings member it sets
  std::string_view accepts;  // what a good value looks like ("a whole number >= 1")
  std::string_view doc;      // one line
  /// The value in `s` as config text (the default: `format(runtime_settings{})`).
  std::string (*format)(const runtime_settings& s);
  /// Parses `value` into `s`; returns "" or what was wrong ("expected ...").
  std::string (*parse)(std::string_view value, runtime_settings& s);
};

/// Every option, in the order of config/interlock.conf.
const std::vector<config_option>& config_options();

/// Every option with its default and doc, for --help.
std::string config_help();

/// `s` as a config file (every option, by section) that loads back into `s`.
std::string to_config_text(const runtime_settings& s);

/// Sets one option; `key` is SECTION.KEY, `value` unquoted. `source` starts the
/// error message ("config/interlock.conf:12", "command line"). On error `s` is
/// unchanged.
caf::error apply_config_option(std::string_view key, std::string_view value, const std::string& source,
                               runtime_settings& s);

/// Applies config-file text on top of `s` (options it leaves out keep their
/// value). `source` names the text in errors, which add ":LINE". On error `s`
/// is unchanged. Checks each value, not check_settings (a later layer may fix
/// a combination).
caf::error apply_config_text(std::string_view text, const std::string& source, runtime_settings& s);

/// The checks that involve more than one option (database_path may be empty
/// only in memory); per-option ranges are checked as each value is parsed.
caf::error check_settings(const runtime_settings& s, const std::string& source);

/// `base` with the file at `path` applied and checked.
caf::expected<runtime_settings> load_config_file(const std::string& path, runtime_settings base = {});

/// Applies `--config=FILE` / `--config FILE` (first, wherever it appears), then
/// every `--interlock.SECTION.KEY=VALUE` in order, then check_settings. Returns
/// the other arguments after argv[0], in order and untouched (everything after
/// a `--` among them), for the program's own parser. On error `s` is unchanged.
caf::expected<std::vector<std::string>> apply_command_line(int argc, const char* const* argv, runtime_settings& s);

}  // namespace interlock
