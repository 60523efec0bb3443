// The aggregate directory on its own: a command goes straight to a listed
// actor only while no earlier command for that aggregate is still on its way
// through the router; unlisting happens under the lock together with what the
// router sends; direct use is recorded for the idle sweep and the cap.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <interlock/actors/aggregate_directory.hpp>

#include "test_support.hpp"

using interlock::detail::aggregate_directory;
using testing_support::actor_env;

namespace {

caf::behavior idle_actor() {
  return {[](int) {}};
}

// Where the directory sent a command, and whether it counted it.
struct sent_to {
  caf::actor target;
  bool counted = false;
};

sent_to send(aggregate_directory& d, const std::string& id, const caf::actor& router) {
  sent_to out;
  d.send("Account", id, router, [&](const caf::actor& target, bool counted) {
    out.target = target;
    out.counted = counted;
  });
  return out;
}

struct directory_env {
  actor_env env;
  caf::actor router = env.sys.spawn(idle_actor);
  caf::actor account = env.sys.spawn(idle_actor);
  aggregate_directory directory;
  ~directory_env() {
    directory.clear();
    for (auto& a : {router, account}) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
};

}  // namespace

TEST_CASE("aggregate directory: an unlisted aggregate's commands go to the router, counted", "[directory]") {
  directory_env e;
  auto first = send(e.directory, "a", e.router);
  CHECK(first.target == e.router);
  CHECK(first.counted);
  CHECK_FALSE(e.directory.listed("Account", "a"));
}

TEST_CASE("aggregate directory: a listed actor gets its commands directly and is marked used", "[directory]") {
  directory_env e;
  const auto before = aggregate_directory::clock_type::now();
  e.directory.add("Account", "a", e.account);
  CHECK(e.directory.listed("Account", "a"));
  CHECK(e.directory.last_used("Account", "a") == aggregate_directory::clock_type::time_point{});
  auto direct = send(e.directory, "a", e.router);
  CHECK(direct.target == e.account);
  CHECK_FALSE(direct.counted);
  CHECK(e.directory.last_used("Account", "a") >= before);
  CHECK(send(e.directory, "b", e.router).target == e.router);  // another id, same type
}

TEST_CASE("aggregate directory: no direct send overtakes a command still passing the router", "[directory]") {
  directory_env e;
  auto via_router = send(e.directory, "a", e.router);  // the actor is not listed yet
  REQUIRE(via_router.counted);
  e.directory.add("Account", "a", e.account);  // the router starts it with that command...
  auto second = send(e.directory, "a", e.router);  // ...which it has not passed on yet
  CHECK(second.target == e.router);
  CHECK(second.counted);
  e.directory.settle("Account", "a");
  CHECK(send(e.directory, "a", e.router).target == e.router);  // the second is still in the router
  e.directory.settle("Account", "a");
  e.directory.settle("Account", "a");
  CHECK(send(e.directory, "a", e.router).target == e.account);
}

TEST_CASE("aggregate directory: unlisting runs the router's send under the lock, only the listed actor is unlisted",
          "[directory]") {
  directory_env e;
  e.directory.add("Account", "a", e.account);
  bool ran = false;
  e.directory.remove("Account", "a", [&] { ran = true; });
  CHECK(ran);
  CHECK(send(e.directory, "a", e.router).target == e.router);
  e.directory.settle("Account", "a");

  auto other = e.env.sys.spawn(idle_actor);
  e.directory.add("Account", "a", e.account);
  e.directory.remove_if("Account", "a", other.address());  // an older actor's down message
  CHECK(send(e.directory, "a", e.router).target == e.account);
  e.directory.remove_if("Account", "a", e.account.address());
  CHECK(send(e.directory, "a", e.router).target == e.router);
  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
}
