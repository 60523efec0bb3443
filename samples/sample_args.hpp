// The runtime settings a sample's command line gives (sample_config.hpp has
// the flags), for a sample whose application owns its actor system
// (application_builder{}). Compiled once in sample_args.cpp, so that the
// sample's own translation unit includes no CAF configuration header.
#pragma once

#include <string>

#include <interlock/runtime/application_builder.hpp>

/// "in memory", the journal file, or "PostgreSQL, schema S" (never the URL).
std::string journal_description(const interlock::runtime_settings& s);

struct sample_args {
  interlock::runtime_settings settings;  // every layer applied
  bool status = false;                   // --status

  /// The journal, for printing: "in memory", the file, or the PostgreSQL schema.
  std::string journal() const { return journal_description(settings); }

  void apply(interlock::application_builder& builder) const { builder.settings(settings); }

  /// Parses as sample_config::parse_or_exit does (exits 0 after --help, 2 on
  /// an error) and returns the settings.
  static sample_args parse(int argc, char** argv, const std::string& default_db);
};

/// Prints application::status() as a table (--status): one row per
/// projection, processor and saga.
void print_status(const interlock::application& app);
