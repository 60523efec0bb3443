// Command line shared by the samples: the runtime settings the documented way
// (config/README.md) plus two shorthands and --help.
//
//   --config=FILE, --config FILE      settings from a config file (config/interlock.conf)
//   --interlock.SECTION.KEY=VALUE     one setting
//   --db PATH, --db=PATH              = --interlock.journal.database_path=PATH
//   --memory                          = --interlock.journal.in_memory=true
//   --help, -h                        usage and every setting with its default
//
// The shorthands are translated into the overrides they stand for and go
// through interlock::apply_command_line with the rest, so the precedence is the
// runtime's own, lowest first: the defaults (with the sample's own database
// file) < the config file < the command line (--interlock.*, --db, --memory).
// A shorthand and the option it stands for together are an error, as are
// --db with --memory and any option given twice. Every error is one line on
// stderr naming the flag or key, and exit status 2.
#pragma once

#include <string>

#include <caf/expected.hpp>

#include <interlock/runtime/application_builder.hpp>

// Compiled once in sample_args.cpp (a library the samples link), so that a
// sample's own translation unit holds only the sample.
struct sample_args {
  interlock::runtime_settings settings;  // every layer applied
  bool help = false;                     // --help / -h: nothing else was read

  /// The journal, for printing: "in memory" or the file.
  std::string journal() const { return settings.in_memory ? std::string{"in memory"} : settings.database_path; }

  void apply(interlock::application_builder& builder) const { builder.settings(settings); }

  /// Parses without printing or exiting: errors are errc::invalid_argument
  /// whose message names the flag or key.
  static caf::expected<sample_args> try_parse(int argc, const char* const* argv, const std::string& default_db);

  /// Parses; prints the usage and exits 0 on --help, prints the error and
  /// exits 2 on a bad command line.
  static sample_args parse(int argc, char** argv, const std::string& default_db);

  static std::string usage(const std::string& program, const std::string& default_db);
  static std::string program_name(const char* argv0);
};
