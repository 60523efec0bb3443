// Runs a helper program (tests/programs/) and collects its stdout.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace testing_support {

struct run_result {
  int exit_code = -1;
  std::vector<std::string> lines;
};

inline run_result run_program(const std::string& command) {
  run_result out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) {
    std::string line = buf;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    out.lines.push_back(std::move(line));
  }
  int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace testing_support
