#include <catch2/catch.hpp>

#include <interlock/runtime/aggregate_test.hpp>

#include "bank_domain.hpp"

using namespace testbank;
using interlock::aggregate_test;
using interlock::expectation_failed;

TEST_CASE("test kit: given events, when a command, then its events", "[testkit]") {
  aggregate_test<Account> t{"acc-1"};
  t.given(Opened{"Alice"}, Deposited{100, "a"}).when(Withdraw{30}).then(Withdrawn{30});
  CHECK(t.state().balance == 70);
  CHECK(t.state().version() == 3);
  CHECK(t.state().id() == "acc-1");
}

TEST_CASE("test kit: a rejected command changes nothing and reports its message", "[testkit]") {
  aggregate_test<Account> t;
  t.given(Opened{"Alice"}, Deposited{100, "a"}).when(Withdraw{1000}).then_rejected("Insufficient funds: balance 100");
  CHECK(t.state().balance == 100);
  CHECK(t.state().version() == 2);
  CHECK(t.events().empty());
}

TEST_CASE("test kit: typed results and chained commands", "[testkit]") {
  aggregate_test<Account> t;
  t.when(Open{"Bob"}).then(Opened{"Bob"});
  t.when(Deposit{{}, 5, "x"}).then(Deposited{5, "x"});
  CHECK(t.result<std::int64_t>() == 5);
  t.when(Deposit{{}, 7, "y"});
  CHECK(t.result<std::int64_t>() == 12);
  t.when(Ping{3}).then();
  CHECK(t.result<std::string>() == "test-aggregate:3@3");
}

TEST_CASE("test kit: failed expectations explain expected and actual", "[testkit]") {
  aggregate_test<Account> t;
  t.given(Opened{"Alice"});
  t.when(Deposit{{}, 10, "t"});
  try {
    t.then(Deposited{11, "t"});
    FAIL("then() accepted the wrong event");
  } catch (const expectation_failed& ex) {
    std::string msg = ex.what();
    CHECK(msg.find(R"(expected events [Deposited {"amount":11,"tag":"t"}])") != std::string::npos);
    CHECK(msg.find(R"(but got [Deposited {"amount":10,"tag":"t"}])") != std::string::npos);
  }
  CHECK_THROWS_AS(t.then_rejected(), expectation_failed);
  t.when(Deposit{{}, -1, "neg"});
  CHECK_THROWS_WITH(t.then(Deposited{-1, "neg"}), Catch::Contains("the command failed: rejected: Amount must be positive"));
  CHECK_THROWS_WITH(t.then_rejected("something else"), Catch::Contains("containing 'something else'"));
}

TEST_CASE("test kit: given() goes through JSON like a replay from the journal", "[testkit]") {
  aggregate_test<Account> t;
  t.given(Opened{"Zoë \"quoted\" \u00e9"}, Deposited{1, "\n"});
  CHECK(t.state().owner == "Zoë \"quoted\" \u00e9");
  CHECK(t.state().tags == std::vector<std::string>{"\n"});
}

TEST_CASE("test kit: result<R>() of the wrong type names the type the command returns", "[testkit]") {
  aggregate_test<Account> t;
  t.given(Opened{"Alice"}).when(Deposit{{}, 5, "x"});
  CHECK_THROWS_AS(t.result<std::string>(), expectation_failed);
  CHECK_THROWS_WITH(t.result<std::string>(), Catch::Contains("result<") && Catch::Contains("wrong type") &&
                                                 Catch::Contains("long") && Catch::Contains("Deposit"));
  CHECK(t.result<std::int64_t>() == 5);
  aggregate_test<Account> fresh;
  CHECK_THROWS_WITH(fresh.result<std::int64_t>(), Catch::Contains("needs a when() first"));
}

TEST_CASE("test kit: a copy of a test keeps a state of its own", "[testkit]") {
  aggregate_test<Account> t{"acc-1"};
  t.given(Opened{"Ann"}, Deposited{10, "a"});
  auto copy = t;
  copy.when(Deposit{{}, 5, "b"}).then(Deposited{5, "b"});
  CHECK(copy.state().balance == 15);
  CHECK(t.state().balance == 10);
  t.when(Deposit{{}, 1, "c"}).then(Deposited{1, "c"});
  CHECK(t.state().balance == 11);
  CHECK(copy.state().balance == 15);
}

TEST_CASE("model: an event with an empty type name is an unknown type, not a crash", "[testkit]") {
  interlock::detail::aggregate_model<Account> model{"acc-1", {}};
  interlock::event_view e;
  e.aggregate_type = "Account";
  e.aggregate_id = "acc-1";
  e.version = 1;
  e.position = 1;
  e.payload = "{}";
  auto err = model.replay(e);
  CHECK(interlock::is(err, interlock::errc::unknown_event_type));
}
