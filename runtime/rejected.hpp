#pragma once

#include <stdexcept>
#include <string>

namespace interlock {

/// Thrown by a command handler to refuse a command. Nothing is persisted, the
/// aggregate's state is unchanged and the caller receives errc::rejected with
/// this message. Any other std::exception is treated the same way.
class rejected : public std::runtime_error {
 public:
  explicit rejected(const std::string& why) : std::runtime_error(why) {}
};

}  // namespace interlock
