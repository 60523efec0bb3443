// interlock::tune(): the scheduler settings it promises reach CAF's threads.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <caf/all.hpp>

#include <interlock/runtime/system_config.hpp>

#include "test_support.hpp"

using testing_support::actor_env;

TEST_CASE("tune: one worker per core, idle workers sleep on their condition variable after a short spin", "[config]") {
  actor_env env;
  CHECK(caf::get_or(env.cfg, "scheduler.max-threads", std::size_t{0}) ==
        std::max<std::size_t>(2, std::thread::hardware_concurrency()));
  CHECK(caf::get_or(env.cfg, "work-stealing.moderate-poll-attempts", std::size_t{500}) == 0);
  // Workers asleep on their condition variable still take work sent from
  // outside the scheduler: each round trip below starts with every worker idle.
  auto echo = env.sys.spawn([]() -> caf::behavior { return {[](int x) { return x + 1; }}; });
  caf::scoped_actor self{env.sys};
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    int got = 0;
    self->request(echo, std::chrono::seconds(5), i).receive([&](int x) { got = x; },
                                                           [&](caf::error& err) { FAIL(env.sys.render(err)); });
    CHECK(got == i + 1);
  }
  self->send_exit(echo, caf::exit_reason::user_shutdown);
}
