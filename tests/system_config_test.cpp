// interlock::tune(): the scheduler settings it promises reach CAF's threads.
#include <catch2/catch.hpp>

#include <sys/prctl.h>

#include <caf/all.hpp>

#include <interlock/runtime/system_config.hpp>

#include "test_support.hpp"

using testing_support::actor_env;

TEST_CASE("tune: one worker per core, 25 us idle polls, 1 us timer slack on CAF's threads", "[config]") {
  actor_env env;
  CHECK(caf::get_or(env.cfg, "scheduler.max-threads", std::size_t{0}) ==
        std::max<std::size_t>(2, std::thread::hardware_concurrency()));
  CHECK(caf::get_or(env.cfg, "work-stealing.moderate-sleep-duration", caf::timespan{0}) ==
        caf::timespan{std::chrono::microseconds{25}});
  // Asked of a scheduled actor, so it runs on one of CAF's worker threads.
  auto ask_slack = env.sys.spawn([]() -> caf::behavior {
    return {[](caf::get_atom) { return static_cast<std::int64_t>(::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)); }};
  });
  caf::scoped_actor self{env.sys};
  std::int64_t slack = -1;
  self->request(ask_slack, std::chrono::seconds{5}, caf::get_atom::value)
      .receive([&](std::int64_t s) { slack = s; }, [&](caf::error& err) { FAIL(env.sys.render(err)); });
  CHECK(slack == 1000);
  // The test's own thread keeps its slack (the hook touches CAF's threads only).
  CHECK(::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != 1000);
  self->send_exit(ask_slack, caf::exit_reason::user_shutdown);
}
