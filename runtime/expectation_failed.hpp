// What the test kits (aggregate_test.hpp, projection_test.hpp) throw when an
// expectation fails: its message shows expected and actual, so any test
// framework reports it.
#pragma once

#include <stdexcept>

namespace interlock {

class expectation_failed : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace interlock
