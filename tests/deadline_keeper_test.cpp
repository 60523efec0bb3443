// The deadline keeper on its own: it answers a request that is late with a
// timeout, leaves an answered one alone, and answers everything still open
// when it is destroyed (its application stopped).
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <interlock/actors/deadline_keeper.hpp>
#include <interlock/core/errors.hpp>

#include "test_support.hpp"

using namespace std::chrono_literals;
using interlock::detail::deadline_keeper;
using testing_support::actor_env;

namespace {

// Takes a request and never answers it (the promise stays open).
caf::behavior black_hole(caf::event_based_actor* self) {
  auto kept = std::make_shared<std::vector<caf::response_promise>>();
  return {[=](int) -> caf::result<int> {
    kept->push_back(self->make_response_promise());
    return caf::delegated<int>{};
  }};
}

// Sends one request to `target` watched by `keeper`, and reports the outcome
// (and whether its handler ran twice) to whoever asks with get_atom.
caf::behavior caller(caf::event_based_actor* self, caf::actor target, deadline_keeper* keeper,
                     std::chrono::milliseconds timeout, bool mark_answered_now) {
  auto outcome = std::make_shared<std::string>();
  auto handle = self->request(target, caf::infinite, 1);
  auto watch = std::make_shared<interlock::detail::reply_watch>();
  watch->what = "command T to A/x";
  watch->timeout = timeout;
  keeper->watch(watch, caf::actor_cast<caf::strong_actor_ptr>(self), handle.id());
  if (mark_answered_now) watch->answered = true;
  handle.then([=](int) { *outcome += "reply;"; },
              [=](caf::error& err) { *outcome += interlock::describe(err) + ";"; });
  return {[=](caf::get_atom) { return *outcome; }};
}

std::string outcome_of(actor_env& env, const caf::actor& a) {
  caf::scoped_actor self{env.sys};
  std::string out = "(no answer)";
  self->request(a, 5s, caf::get_atom::value).receive([&](std::string& s) { out = s; },
                                                    [&](caf::error& err) { out = env.sys.render(err); });
  return out;
}

}  // namespace

TEST_CASE("deadline keeper: a late request gets a timeout naming the command, once", "[keeper]") {
  actor_env env;
  auto hole = env.sys.spawn(black_hole);
  deadline_keeper keeper{5ms};
  auto late = env.sys.spawn(caller, hole, &keeper, 30ms, false);
  auto answered = env.sys.spawn(caller, hole, &keeper, 30ms, true);
  std::this_thread::sleep_for(150ms);
  CHECK(outcome_of(env, late) ==
        "timeout: command T to A/x: no reply within 30 ms; its outcome is unknown (it may still be committed);");
  CHECK(outcome_of(env, answered) == "");  // marked answered: the keeper leaves it alone
  for (auto& a : {hole, late, answered}) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("deadline keeper: destroyed with requests open, it answers them at once", "[keeper]") {
  actor_env env;
  auto hole = env.sys.spawn(black_hole);
  caf::actor open;
  {
    deadline_keeper keeper{5ms};
    open = env.sys.spawn(caller, hole, &keeper, 60s, false);
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(50ms);
  CHECK(outcome_of(env, open) ==
        "unavailable: command T to A/x: the application stopped before the reply arrived; the command may or may "
        "not have been committed;");
  for (auto& a : {hole, open}) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}
