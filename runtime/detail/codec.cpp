#include <interlock/runtime/detail/codec.hpp>

namespace interlock::detail {

std::string describe_event(const stored_event& e) {
  return "stream " + e.stream_name() + " version " + std::to_string(e.version) + " type " + e.event_type;
}

}  // namespace interlock::detail
