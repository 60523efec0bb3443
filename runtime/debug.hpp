// The time-travel console, in your own program (it needs your domain types):
//
//   interlock::application_builder builder;
//   builder.aggregate<BankAccount>().projection<Balances>().sqlite("data/bank.db");
//   if (argc > 1 && std::string_view{argv[1]} == "debug")
//     return interlock::debug::run(builder, argc - 1, argv + 1);   // argv[0] is then "debug"
//   auto app = builder.build();
//
// Commands: replay STREAM [--to-version N | --at TIME], step STREAM
// [--from-version N] [--to-version M], check-snapshots [--type T], rebuild
// PROJECTION, serve [--port P] [--bind ADDR] (a web view, read-only, on
// 127.0.0.1:7411 by default, until SIGINT or SIGTERM); `--help` on each.
// Link `interlock::debug` (CMake target interlock_debug; CLI11, header-only,
// is needed only to build it; it links cpp-httplib, a shared library).
//
// Contract: run() reads the registered types, upcasters and settings of
// `builder` and never builds the application: no actor starts, and no event,
// snapshot or read model is written (rebuild works in a scratch copy that it
// deletes; opening the journal may fold its stream index, a cache, as every
// connection does). The journal file must exist; reading it beside a running
// application is safe (a reader never blocks the writer in WAL mode). Returns
// the exit status: 0 done, 1 a failure or a difference found (the message
// names the stream, type or projection), 2 a usage error. Output is coloured
// when stdout is a terminal (not with --no-color or NO_COLOR set).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace interlock {
class application_builder;
}

namespace interlock::debug {

/// Runs the console on argv[1..argc) (argv[0] names it in the usage text),
/// writing to stdout and stderr.
int run(const application_builder& builder, int argc, const char* const* argv);

/// The same on `args` (without a program name), writing to `out` and `err`,
/// never coloured: for tests and programs that embed the console.
int run(const application_builder& builder, const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err);

}  // namespace interlock::debug
