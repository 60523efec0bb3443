// The projection test kit (runtime/projection_test.hpp): given events of
// streams, then what queries answer, with no actors and no journal.
#include <catch2/catch.hpp>

#include <interlock/runtime/projection_test.hpp>

#include "bank_domain.hpp"

using namespace testbank;
using interlock::expectation_failed;
using interlock::projection_test;

namespace {

struct Thrower {  // a projection whose on() throws, and a query it cannot answer
  using events = interlock::types<Deposited>;
  using queries = interlock::types<GetBalance>;
  void on(const Deposited& e) {
    if (e.amount < 0) throw std::runtime_error("negative deposit");
  }
  std::int64_t handle(const GetBalance&) const { throw std::runtime_error("no balances here"); }
};

}  // namespace

TEST_CASE("projection test kit: given events of several streams, then queries answer", "[testkit]") {
  projection_test<Balances> t;
  t.given<Account>("a", Opened{"Ann"}, Deposited{100, "x"}, Withdrawn{30})  // Opened: not listed, skipped
      .given<Account>("b", Deposited{5, ""});
  t.then(GetBalance{"a"}, std::int64_t{70}).then(GetBalance{"b"}, std::int64_t{5}).then(GetBalance{"c"}, std::int64_t{0});
  CHECK(t.query(GetTotals{}) == std::map<std::string, std::int64_t>{{"a", 70}, {"b", 5}});
  CHECK(t.position() == 4);
}

TEST_CASE("projection test kit: envelopes as catch-up gives them", "[testkit]") {
  projection_test<Audit> t;
  t.given<Account>("a", Opened{"Ann"}, Deposited{1, "t1"}).given<Account>("b", Opened{"Bob"}).given<Account>(
      "a", Deposited{2, "t2"});
  // position:stream:version:command:correlation:causation
  CHECK(t.query(GetSeen{}) == std::vector<std::string>{"1:Account/a:1:::", "2:Account/a:2:::", "3:Account/b:1:::",
                                                       "4:Account/a:3:::"});
  t.then(GetTags{{}, "a"}, std::vector<std::string>{"t1", "t2"});
  t.given_in("Savings", "a", Deposited{3, "t3"});  // another aggregate type: a stream of its own
  CHECK(t.query(GetSeen{}).back() == "5:Savings/a:1:::");
  t.with_ids("cmd-9", "conv-1", "event:4").given<Account>("b", Deposited{4, ""});
  CHECK(t.query(GetSeen{}).back() == "6:Account/b:2:cmd-9:conv-1:event:4");
}

TEST_CASE("projection test kit: a wrong answer, a failing query and a throwing on() are reported", "[testkit]") {
  projection_test<Balances> t;
  t.given<Account>("a", Deposited{10, ""});
  CHECK_THROWS_WITH(t.then(GetBalance{"a"}, std::int64_t{11}), "query GetBalance: expected 11 but got 10");

  projection_test<Thrower> thrower;
  thrower.then_error(GetBalance{"a"}, interlock::errc::rejected, "no balances here");
  CHECK_THROWS_WITH(thrower.query(GetBalance{"a"}), Catch::Contains("query GetBalance failed") &&
                                                        Catch::Contains("no balances here"));
  CHECK_THROWS_WITH(thrower.given<Account>("a", Deposited{-1, ""}),
                    Catch::Contains("given: ") && Catch::Contains("stream Account/a version 1 type Deposited") &&
                        Catch::Contains("negative deposit"));
  CHECK_THROWS_AS(t.then_error(GetBalance{"a"}, interlock::errc::rejected), expectation_failed);
}
