// The process test kit (runtime/process_test.hpp): given events, then a
// processor or saga dispatches these commands; refusals and deadlines drive
// a saga's other steps; mismatches are reported with expected and actual.
#include <catch2/catch.hpp>

#include <interlock/runtime/process_test.hpp>

#include "transfer_domain.hpp"

using namespace transfers;
using interlock::expectation_failed;
using interlock::process_test;
using interlock::sent;

namespace {

struct Cashback : interlock::processor<Cashback> {
  using events = interlock::types<Credited>;
  using commands = interlock::types<Refund>;
  std::int64_t percent = 0;
  void on(const Credited& e, const interlock::event_envelope& env) {
    if (e.amount >= 100) dispatch(env.aggregate_id, Refund{e.amount * percent / 100});
  }
};

// Closes a conversation that sees no credit in time.
struct Watch : interlock::saga<Watch> {
  using events = interlock::types<Debited, Credited>;
  using commands = interlock::types<Refund>;
  std::string account;
  std::int64_t amount = 0;
  void start(const Debited& e, const interlock::event_envelope& env) {
    account = env.aggregate_id;
    amount = e.amount;
    set_deadline(std::chrono::seconds(30));
  }
  void on(const Credited&) { complete(); }
  void deadline_passed() {
    dispatch(account, Refund{amount});
    complete();
  }
};
INTERLOCK_JSON(Watch, account, amount)

}  // namespace

TEST_CASE("process test kit: a processor's commands per event", "[testkit][process]") {
  process_test<Cashback> t{Cashback{{}, 5}};
  t.given<Account>("a", Credited{200}, Credited{10}).then_dispatches(sent("a", Refund{10}));
  t.given<Account>("b", Opened{0, false}).then_dispatches();
  CHECK_THROWS_WITH(t.given<Account>("b", Credited{100}).then_dispatches(sent("b", Refund{6})),
                    "expected the commands Refund {\"amount\":6} to b but the process dispatched Refund "
                    "{\"amount\":5} to b");
}

TEST_CASE("process test kit: a saga through a transfer that completes and one refused", "[testkit][saga]") {
  process_test<Transfer> t;
  t.in_conversation("t1")
      .given<TransferDesk>("t1", TransferRequested{"alice", "bob", 30})
      .then_dispatches(sent("alice", Debit{30}))
      .given<Account>("alice", Debited{30})
      .then_dispatches(sent("bob", Credit{30}))
      .given<Account>("bob", Credited{30})
      .then_dispatches()
      .then_completed("t1");
  t.in_conversation("t2")
      .given<TransferDesk>("t2", TransferRequested{"alice", "closed", 5})
      .given<Account>("alice", Debited{5})
      .then_dispatches(sent("alice", Debit{5}), sent("closed", Credit{5}));
  CHECK(t.open("t2"));
  t.when_rejected("closed", Credit{5}, "closed takes nothing")
      .then_dispatches(sent("alice", Refund{5}), sent("t2", MarkFailed{"rejected: closed takes nothing"}))
      .then_completed("t2");
  t.in_conversation("nobody").given<Account>("bob", Credited{1}).then_dispatches();  // no open conversation: passed over
  CHECK_THROWS_WITH(t.when_rejected("bob", Credit{99}, "no"),
                    Catch::Contains("no command Credit {\"amount\":99} to bob was dispatched"));
}

TEST_CASE("process test kit: a deadline fires once, unless the saga completed", "[testkit][saga]") {
  process_test<Watch> t;
  t.in_conversation("late").given<Account>("a", Debited{7});
  CHECK(t.has_deadline("late"));
  t.when_deadline_passes("late").then_dispatches(sent("a", Refund{7})).then_completed("late");
  CHECK_FALSE(t.has_deadline("late"));
  CHECK_THROWS_AS(t.when_deadline_passes("late"), expectation_failed);
  t.in_conversation("paid").given<Account>("b", Debited{3}).given<Account>("c", Credited{3});
  CHECK_FALSE(t.has_deadline("paid"));
  t.then_completed("paid").then_dispatches();
}
