// The samples' CAF configuration, as a CAF application builds its own: the
// runtime's options (interlock::add_options), the scheduler tuning
// (interlock::tune), and two shorthands of the samples:
//
//   --db=PATH, --db PATH   = --interlock.journal.database_path=PATH
//   --memory               = --interlock.journal.in_memory=true
//   --status               prints the projections' and sagas' status at the end
//
// Everything else is CAF's: --interlock.SECTION.KEY=VALUE, an INI file
// (caf-application.ini in the working directory, or --config-file=FILE, with
// [interlock.SECTION] keys), --help (the flags) and --long-help (every setting
// with its default). Precedence, lowest first: the defaults (with the
// sample's own database file) < the INI file < the command line. A shorthand
// together with the option it stands for, --db with --memory (or with
// in_memory = true), a positional argument, '--', and every parse error are
// refused: one line on stderr, exit 2. The quickstart's application runs in
// an actor system of its own (application_builder{}): CAF's own options
// ([scheduler], ...) are read there but apply only to samples that build
// their system from this config, as banking does.
#pragma once

#include <string>

#include <caf/actor_system_config.hpp>

class sample_config : public caf::actor_system_config {
 public:
  explicit sample_config(std::string default_db);

  /// Parses argv (and the INI file) into this config and checks the runtime's
  /// settings. Errors are errc::invalid_argument, one line naming the flag,
  /// the key or the file's line. After --help or --long-help, help() is true.
  caf::error parse_args(int argc, char** argv);

  /// parse_args; prints the error and exits 2, or exits 0 after the help
  /// (and `after_help`, if any: what the program takes besides its flags).
  void parse_or_exit(int argc, char** argv, const char* after_help = nullptr);

  bool help() const { return cli_helptext_printed; }

  /// The journal, for printing: "in memory" or the file.
  std::string journal() const;

  /// --status: print the projections' and sagas' status before exiting.
  bool status() const;

  /// A flag of the sample's own (--NAME), before parse_args; flag() reads it.
  void add_flag(const char* name, const char* help);
  bool flag(const char* name) const;

 private:
  std::string default_db_;
};
