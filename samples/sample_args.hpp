// Command line shared by the samples: --db PATH (SQLite file, default under
// ./data/) or --memory (in-memory journal).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <interlock/runtime/application_builder.hpp>

struct sample_args {
  std::string db;
  bool memory = false;

  static sample_args parse(int argc, char** argv, std::string default_db) {
    sample_args args{std::move(default_db)};
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg == "--memory") args.memory = true;
      else if (arg == "--db" && i + 1 < argc) args.db = argv[++i];
      else if (arg.starts_with("--db=")) args.db = std::string{arg.substr(5)};
      else usage(argv[0], arg);
    }
    return args;
  }

  void apply(interlock::application_builder& builder) const {
    if (memory) builder.in_memory();
    else builder.sqlite(db);
  }

  [[noreturn]] static void usage(const char* program, std::string_view bad) {
    std::fprintf(stderr, "unknown argument '%.*s'\nusage: %s [--db PATH | --memory]\n", static_cast<int>(bad.size()),
                 bad.data(), program);
    std::exit(2);
  }
};
