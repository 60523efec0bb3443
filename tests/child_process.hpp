// A helper program (tests/programs/) started with posix_spawn, its stdout
// thrown away (its stderr written to `stderr_path` if one is given), for the
// crash tests: killed with SIGKILL (and waited for) if still running when
// destroyed.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

extern char** environ;

namespace testing_support {

struct child {
  pid_t pid = -1;
  explicit child(std::vector<std::string> args, const std::string& stderr_path = {}) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (!stderr_path.empty())
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait();
    }
  }
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
};

/// A crash test's seed: INTERLOCK_CRASH_SEED if set (to rerun a failure with
/// the parameters it printed), else a random one.
inline std::uint64_t crash_seed() {
  if (auto env = std::getenv("INTERLOCK_CRASH_SEED"); env && *env) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

}  // namespace testing_support
