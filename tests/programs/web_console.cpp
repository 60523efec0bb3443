// The debug console (runtime/debug.hpp) on tests/web_domain.hpp's types, for
// the web view's tests: `web_console JOURNAL COMMAND ...` runs
// interlock::debug::run on the journal file JOURNAL with COMMAND ... (e.g.
// `serve --port 0`). Exit status: the console's.
#include <iostream>
#include <string>
#include <vector>

#include <interlock/runtime/debug.hpp>

#include "../web_domain.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: web_console JOURNAL COMMAND ...\n";
    return 2;
  }
  interlock::application_builder builder;
  web::registered(builder, argv[1]);
  return interlock::debug::run(builder, std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
}
