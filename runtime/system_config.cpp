#include <interlock/runtime/system_config.hpp>

#include <algorithm>
#include <memory>
#include <thread>

#include <sys/prctl.h>

#include <caf/actor_system_config.hpp>
#include <caf/thread_hook.hpp>

namespace interlock {
namespace {

// CAF's idle workers poll with sleep_for() before they block; Linux's
// default timer slack (50 us) stretches each such sleep by up to 50 us, and a
// message to an idle worker waits out the rest of it. A 1 us slack on CAF's
// own threads (not the application's) cuts that wait.
class tight_timer_slack final : public caf::thread_hook {
 public:
  void init(caf::actor_system&) override {}
  void thread_started() override { ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL); }
  void thread_terminates() override {}
};

}  // namespace

void tune(caf::actor_system_config& cfg) {
  auto cores = std::max(2u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<std::size_t>(cores));
  cfg.add_thread_hook<tight_timer_slack>();
  cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{std::chrono::microseconds{25}});
}

}  // namespace interlock
