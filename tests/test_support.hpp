// Shared by the runtime tests: a temp directory that removes itself, an
// actor system tuned like the samples, and waiting for a condition.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <interlock/runtime/system_config.hpp>

namespace testing_support {

class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("interlock-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline caf::actor_system_config& tuned(caf::actor_system_config& cfg) {
  interlock::tune(cfg);
  return cfg;
}

/// An actor system per test (or per simulated process lifetime).
struct actor_env {
  caf::actor_system_config cfg;
  caf::actor_system sys{tuned(cfg)};
};

/// Waits (up to `within`) until `done()` holds; whether it did.
template <class F>
bool eventually(F done, std::chrono::milliseconds within = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace testing_support
