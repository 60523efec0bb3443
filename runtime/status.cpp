#include <interlock/runtime/status.hpp>

namespace interlock {

const char* to_string(projection_status::phase p) {
  switch (p) {
    case projection_status::phase::catching_up: return "catching_up";
    case projection_status::phase::live: return "live";
    case projection_status::phase::failed: return "failed";
    case projection_status::phase::paused: return "paused";
    case projection_status::phase::rebuilding: return "rebuilding";
  }
  return "?";
}

}  // namespace interlock
