// Guard rails: the application's blocking calls made where they would hang
// (on a scheduler thread: inside an actor, an aggregate's handler or a
// projection's on()) answer at once with an error that says what to use
// instead; the same calls work from the program's threads and from detached
// actors. A log level set before build() stays set.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>

#include <caf/all.hpp>

#include <interlock/core/log.hpp>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;
using interlock::errc;

namespace {

std::atomic<interlock::application*> the_app{nullptr};  // for the handlers below

// What a blocking call gave: "ok" or "<errc>: <message>".
template <class T>
std::string outcome(const caf::expected<T>& r) {
  return r ? "ok" : interlock::describe(r.error());
}

struct Forward {
  using result_type = std::string;
  std::string to;
};
struct Forwarded {
  std::string to;
};
INTERLOCK_JSON(Forward, to)
INTERLOCK_JSON(Forwarded, to)

// An aggregate whose handler calls the blocking dispatch.
struct Relay : interlock::aggregate<Relay> {
  using commands = interlock::types<Forward>;
  using events = interlock::types<Forwarded>;
  std::string handle(const Forward& f) { return outcome(the_app.load()->dispatch(f.to, Deposit{{}, 1, "relay"})); }
  void apply(const Forwarded&) {}
};

struct GetReaction {
  using result_type = std::string;
};

// A projection whose on() calls the blocking dispatch (an event processor written the wrong way).
struct Reactor {
  using events = interlock::types<Deposited>;
  using queries = interlock::types<GetReaction>;
  std::string reaction = "none";
  void on(const Deposited& e, const interlock::event_envelope& env) {
    if (e.tag == "react") reaction = outcome(the_app.load()->dispatch(env.aggregate_id, Withdraw{1}));
  }
  std::string handle(const GetReaction&) const { return reaction; }
};

struct app_env : actor_env {
  caf::expected<interlock::application> app = [this] {
    interlock::application_builder b{sys};
    register_bank(b);
    b.aggregate<Relay>().projection<Reactor>().in_memory();
    return b.build();
  }();
  app_env() {
    REQUIRE(app);
    the_app = &*app;
    REQUIRE(app->dispatch("acc", Open{"Ann"}));
  }
  ~app_env() { the_app = nullptr; }
};

void check_refused(const std::string& got, const std::string& call, const std::string& instead) {
  INFO(got);
  CHECK_THAT(got, Catch::StartsWith("invalid_argument: " + call + " blocks until its answer"));
  CHECK_THAT(got, Catch::Contains("scheduler thread"));
  CHECK_THAT(got, Catch::Contains(instead));
}

}  // namespace

TEST_CASE("guard rails: blocking calls inside an actor answer at once with what to use instead", "[guard]") {
  app_env env;
  auto& app = *env.app;
  auto inside = env.sys.spawn([&app](caf::event_based_actor*) -> caf::behavior {
    return {[&app](int) -> std::vector<std::string> {
      return {outcome(app.dispatch("acc", Deposit{{}, 5, "inside"})), outcome(app.query(GetBalance{"acc"})),
              outcome(app.live_aggregates()), outcome(app.load_as_of<Account>("acc")),
              interlock::describe(app.rebuild<Balances>())};
    }};
  });
  caf::scoped_actor self{env.sys};
  std::vector<std::string> got;
  self->request(inside, std::chrono::seconds(10), 1)
      .receive([&](std::vector<std::string>& r) { got = std::move(r); },
               [&](caf::error& err) { FAIL("the actor gave no answer: " << env.sys.render(err)); });
  REQUIRE(got.size() == 5);
  check_refused(got[0], "dispatch()", "interlock::async_dispatch(self, app, ...)");
  check_refused(got[1], "query()", "interlock::async_query(self, app, ...)");
  check_refused(got[2], "live_aggregates()", "a thread of your own");
  check_refused(got[3], "load_as_of()", "a thread of your own");
  check_refused(got[4], "rebuild()", "a thread of your own");
  // Nothing was dispatched, and the application goes on.
  CHECK(*app.query(GetBalance{"acc"}) == 0);
  CHECK(app.dispatch("acc", Deposit{{}, 5, "after"})->value == 5);
}

TEST_CASE("guard rails: an aggregate's handler and a projection's on() that call dispatch get the error, nothing hangs",
          "[guard]") {
  app_env env;
  auto& app = *env.app;
  auto relayed = app.dispatch("relay-1", Forward{"acc"});
  REQUIRE(relayed);
  check_refused(relayed->value, "dispatch()", "async_dispatch");
  auto deposited = app.dispatch("acc", Deposit{{}, 3, "react"});
  REQUIRE(deposited);
  auto reaction = app.query(GetReaction{}, {.after = deposited->position});
  REQUIRE(reaction);
  check_refused(*reaction, "dispatch()", "async_dispatch");
  CHECK(*app.query(GetBalance{"acc"}, {.after = deposited->position}) == 3);  // no deposit of 1, no withdrawal
}

TEST_CASE("guard rails: a detached actor and the program's threads may block", "[guard]") {
  app_env env;
  auto& app = *env.app;
  auto detached = env.sys.spawn<caf::detached>([&app](caf::event_based_actor*) -> caf::behavior {
    return {[&app](int) -> std::string { return outcome(app.dispatch("acc", Deposit{{}, 7, "detached"})); }};
  });
  caf::scoped_actor self{env.sys};
  std::string got;
  self->request(detached, std::chrono::seconds(10), 1)
      .receive([&](std::string& r) { got = std::move(r); },
               [&](caf::error& err) { FAIL("the actor gave no answer: " << env.sys.render(err)); });
  CHECK(got == "ok");
  CHECK(outcome(app.live_aggregates()) == "ok");
  CHECK(*app.query(GetBalance{"acc"}) == 7);
}

TEST_CASE("guard rails: a log level set before build() stays set unless the settings give one", "[guard][log]") {
  actor_env env;
  interlock::set_log_level(interlock::log_level::info);
  {
    interlock::application_builder b{env.sys};
    register_bank(b);
    REQUIRE(b.in_memory().build());
    CHECK(interlock::log_enabled(interlock::log_level::info));
  }
  {
    interlock::runtime_settings s;
    s.log_level = "error";
    interlock::application_builder b{env.sys};
    register_bank(b);
    REQUIRE(b.settings(s).in_memory().build());
    CHECK_FALSE(interlock::log_enabled(interlock::log_level::warning));
    CHECK(interlock::log_enabled(interlock::log_level::error));
  }
  interlock::set_log_level(interlock::log_level::warning);  // the default, for the other tests
}
