// Runs a helper program (tests/programs/) and collects its stdout, line by
// line (whole lines, however long).
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
  std::string line;  // a line longer than buf comes in pieces
  while (std::fgets(buf, sizeof buf, pipe)) {
    line += buf;
    if (line.back() != '\n') continue;
    line.pop_back();
    out.lines.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty()) out.lines.push_back(std::move(line));  // the last, without a newline
  int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace testing_support
