#include <interlock/runtime/system_config.hpp>

#include <algorithm>
#include <thread>

#include <caf/actor_system_config.hpp>

namespace interlock {

void tune(caf::actor_system_config& cfg) {
  auto cores = std::max(2u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<std::size_t>(cores));
  cfg.set("work-stealing.moderate-poll-attempts", std::size_t{0});
}

}  // namespace interlock
