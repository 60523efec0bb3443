// What process_test (runtime/process_test.hpp) runs a process on: an
// in-memory read store whose transactions it drives as the read store actor
// does, so a step's commands are seen only once its transaction commits.
// Compiled once in the library. Internal.
#pragma once

#include <functional>
#include <memory>

#include <caf/error.hpp>

#include <interlock/model/process_instance.hpp>

namespace interlock {
class read_store;
}

namespace interlock::detail {

class process_test_store {
 public:
  process_test_store();
  ~process_test_store();
  /// Attaches `instance` and creates its tables; an error if that fails.
  caf::error open(process_instance& instance);
  /// Runs `step` on `instance` in one transaction, committed unless it fails.
  caf::error run(process_instance& instance, const std::function<caf::error()>& step);

 private:
  std::unique_ptr<read_store> store_;
};

}  // namespace interlock::detail
