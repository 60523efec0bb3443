#include <catch2/catch.hpp>

#include <stdexcept>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/upcaster.hpp>

using interlock::errc;
using interlock::event_version_info;
using interlock::upcast_event;
using interlock::upcaster_chain;
using json = nlohmann::json;

namespace {

// Version 3 of a deposit: v1 had "amt", v2 renamed it "amount", v3 added "currency".
struct MoneyDeposited {
  static constexpr std::uint32_t schema_version = 3;
};

upcaster_chain deposit_chain() {
  upcaster_chain up;
  up.step<MoneyDeposited>(1, [](json p) { return json{{"amount", p.at("amt")}}; })
      .step<MoneyDeposited>(2, [](json p) {
        p["currency"] = "EUR";
        return p;
      });
  return up;
}

std::vector<event_version_info> deposit_current() { return {interlock::event_version_of<MoneyDeposited>()}; }

upcast_event only(const caf::expected<std::vector<upcast_event>>& result) {
  REQUIRE(result);
  REQUIRE(result->size() == 1);
  return result->front();
}

std::string failure_of(const caf::error& err, errc code) {
  REQUIRE(err);
  CHECK(interlock::is(err, code));
  return interlock::message_of(err);
}

}  // namespace

TEST_CASE("upcast: a 1 -> 2 -> 3 chain brings an old payload to the current schema", "[upcast]") {
  auto up = deposit_chain();
  REQUIRE_FALSE(up.check(deposit_current()));
  CHECK(up.needs_upcast("MoneyDeposited", 1));
  CHECK(up.needs_upcast("MoneyDeposited", 2));

  auto e = only(up.upcast("MoneyDeposited", 1, R"({"amt": 100})"));
  CHECK(e.type == "MoneyDeposited");
  CHECK(e.schema_version == 3);
  CHECK(e.payload == json{{"amount", 100}, {"currency", "EUR"}});

  auto from2 = only(up.upcast("MoneyDeposited", 2, R"({"amount": 7})"));
  CHECK(from2.schema_version == 3);
  CHECK(from2.payload == json{{"amount", 7}, {"currency", "EUR"}});
}

TEST_CASE("upcast: current events and unknown types need nothing and come back as they are", "[upcast]") {
  auto up = deposit_chain();
  CHECK_FALSE(up.needs_upcast("MoneyDeposited", 3));
  CHECK_FALSE(up.needs_upcast("AccountOpened", 1));
  CHECK_FALSE(upcaster_chain{}.needs_upcast("MoneyDeposited", 1));
  CHECK(upcaster_chain{}.empty());
  CHECK_FALSE(up.empty());

  auto e = only(up.upcast("MoneyDeposited", 3, R"({"amount": 5, "currency": "USD"})"));
  CHECK(e.schema_version == 3);
  CHECK(e.payload == json{{"amount", 5}, {"currency", "USD"}});
}

TEST_CASE("upcast: a rename, then the new type's own steps", "[upcast]") {
  upcaster_chain up = deposit_chain();
  // FundsAdded v1 {"value"} was MoneyDeposited's v2 under another name.
  up.rename("FundsAdded", 1, "MoneyDeposited", 2, [](json p) { return json{{"amount", p.at("value")}}; });
  REQUIRE_FALSE(up.check(deposit_current()));
  CHECK(up.needs_upcast("FundsAdded", 1));

  auto e = only(up.upcast("FundsAdded", 1, R"({"value": 42})"));
  CHECK(e.type == "MoneyDeposited");
  CHECK(e.schema_version == 3);
  CHECK(e.payload == json{{"amount", 42}, {"currency", "EUR"}});

  SECTION("a rename without a function keeps the payload") {
    upcaster_chain plain = deposit_chain();
    plain.rename("Deposited", 4, "MoneyDeposited", 2);
    REQUIRE_FALSE(plain.check(deposit_current()));
    auto kept = only(plain.upcast("Deposited", 4, R"({"amount": 1})"));
    CHECK(kept.type == "MoneyDeposited");
    CHECK(kept.payload == json{{"amount", 1}, {"currency", "EUR"}});
  }
}

TEST_CASE("upcast: a split makes several events, each upcast further, in order", "[upcast]") {
  upcaster_chain up = deposit_chain();
  up.split("AccountOpenedWithDeposit", 1, {{"AccountOpened", 1}, {"MoneyDeposited", 1}}, [](json p) {
    return std::vector<upcast_event>{{"AccountOpened", 1, {{"owner_name", p.at("owner")}}},
                                     {"MoneyDeposited", 1, {{"amt", p.at("initial")}}}};
  });
  up.step("AccountOpened", 1, [](json p) {
    p["tier"] = "basic";
    return p;
  });
  std::vector<event_version_info> current{{"AccountOpened", 2}, interlock::event_version_of<MoneyDeposited>()};
  REQUIRE_FALSE(up.check(current));

  auto events = up.upcast("AccountOpenedWithDeposit", 1, R"({"owner": "Alice", "initial": 100})");
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].type == "AccountOpened");
  CHECK((*events)[0].schema_version == 2);
  CHECK((*events)[0].payload == json{{"owner_name", "Alice"}, {"tier", "basic"}});
  CHECK((*events)[1].type == "MoneyDeposited");
  CHECK((*events)[1].schema_version == 3);
  CHECK((*events)[1].payload == json{{"amount", 100}, {"currency", "EUR"}});
}

TEST_CASE("upcast: failures on read are errors naming the event and what failed", "[upcast]") {
  auto up = deposit_chain();

  SECTION("a step that throws") {
    auto msg = failure_of(up.upcast("MoneyDeposited", 1, R"({"no_amt": 1})").error(), errc::schema_mismatch);
    CHECK_THAT(msg, Catch::Contains("MoneyDeposited schema version 1") && Catch::Contains("step threw") &&
                        Catch::Contains("amt"));
  }
  SECTION("a throw further down a renamed event's chain names both") {
    up.rename("FundsAdded", 1, "MoneyDeposited", 1);
    up.step("Other", 1, [](json) -> json { throw std::runtime_error("boom"); });
    auto msg = failure_of(up.upcast("FundsAdded", 1, "{}").error(), errc::schema_mismatch);
    CHECK_THAT(msg, Catch::StartsWith("upcasting FundsAdded schema version 1, at MoneyDeposited schema version 1: "
                                      "step threw: "));
    auto thrower = failure_of(up.upcast("Other", 1, "{}").error(), errc::schema_mismatch);
    CHECK(thrower == "upcasting Other schema version 1: step threw: boom");
  }
  SECTION("a split that returns nothing, or an undeclared event") {
    up.split("Empty", 1, {{"MoneyDeposited", 3}}, [](json) { return std::vector<upcast_event>{}; });
    up.split("Stray", 1, {{"MoneyDeposited", 3}},
             [](json) { return std::vector<upcast_event>{{"MoneyDeposited", 2, json::object()}}; });
    CHECK_THAT(failure_of(up.upcast("Empty", 1, "{}").error(), errc::schema_mismatch),
               Catch::Contains("Empty schema version 1") && Catch::Contains("no events"));
    CHECK_THAT(failure_of(up.upcast("Stray", 1, "{}").error(), errc::schema_mismatch),
               Catch::Contains("MoneyDeposited schema version 2, not a declared target"));
  }
  SECTION("a cycle, if check() was skipped, ends instead of looping") {
    up.rename("A", 1, "B", 1).rename("B", 1, "A", 1);
    CHECK_THAT(failure_of(up.upcast("A", 1, "{}").error(), errc::schema_mismatch), Catch::Contains("cycle"));
  }
  SECTION("a payload that is not JSON") {
    CHECK_THAT(failure_of(up.upcast("MoneyDeposited", 1, "{oops").error(), errc::corrupt_event),
               Catch::Contains("MoneyDeposited schema version 1"));
  }
}

TEST_CASE("upcast check: a gap names the type and the missing versions", "[upcast]") {
  upcaster_chain up;
  up.step("MoneyDeposited", 1, [](json p) { return p; }).step("MoneyDeposited", 3, [](json p) { return p; });
  auto msg = failure_of(up.check({{"MoneyDeposited", 4}}), errc::schema_mismatch);
  CHECK(msg == "event MoneyDeposited: no upcaster from schema version 2 to 3 (current is 4)");

  SECTION("a type with no upcasters at all fails at its first declared version") {
    CHECK(failure_of(upcaster_chain{}.check({{"AccountOpened", 2}}), errc::schema_mismatch) ==
          "event AccountOpened: no upcaster from schema version 1 to 2 (current is 2)");
  }
  SECTION("a gap in the chain a rename leads into says where it was reached from") {
    upcaster_chain renamed;
    renamed.rename("FundsAdded", 1, "MoneyDeposited", 1);
    CHECK(failure_of(renamed.check({{"MoneyDeposited", 2, 2}}), errc::schema_mismatch) ==
          "event MoneyDeposited: no upcaster from schema version 1 to 2 (current is 2); reached from FundsAdded "
          "schema version 1");
  }
}

TEST_CASE("upcast check: a declared oldest version needs no upcasters below it", "[upcast]") {
  upcaster_chain up;
  up.step("MoneyDeposited", 2, [](json p) { return p; }).step("MoneyDeposited", 3, [](json p) { return p; });
  CHECK_FALSE(up.check({{"MoneyDeposited", 4, 2}}));
  CHECK(failure_of(up.check({{"MoneyDeposited", 4, 1}}), errc::schema_mismatch) ==
        "event MoneyDeposited: no upcaster from schema version 1 to 2 (current is 4)");
  CHECK(interlock::is(up.check({{"MoneyDeposited", 4, 5}}), errc::invalid_argument));  // oldest above current
}

TEST_CASE("upcast check: registration mistakes are invalid_argument errors naming them", "[upcast]") {
  auto identity = [](json p) { return p; };
  // Stored MoneyDeposited events are all at version 3 already: no steps required.
  std::vector<event_version_info> current{{"MoneyDeposited", 3, 3}, {"AccountOpened", 1}};

  SECTION("two upcasters for one type and version") {
    upcaster_chain up;
    up.step("MoneyDeposited", 1, identity).step("MoneyDeposited", 2, identity).rename("MoneyDeposited", 1,
                                                                                      "AccountOpened", 1);
    CHECK_THAT(failure_of(up.check(current), errc::invalid_argument),
               Catch::Contains("two upcasters for MoneyDeposited schema version 1 (step and rename)"));
  }
  SECTION("a rename to a type the code does not read") {
    upcaster_chain up;
    up.rename("FundsAdded", 1, "MoneyDepositd", 3);
    CHECK(failure_of(up.check(current), errc::invalid_argument) ==
          "rename of FundsAdded schema version 1 leads to MoneyDepositd, not an event type the code reads");
  }
  SECTION("a split that may produce an unknown type") {
    upcaster_chain up;
    up.split("Combined", 1, {{"AccountOpened", 1}, {"Nope", 1}}, [](json) { return std::vector<upcast_event>{}; });
    CHECK_THAT(failure_of(up.check(current), errc::invalid_argument),
               Catch::Contains("split of Combined schema version 1 leads to Nope"));
  }
  SECTION("a rename to a version above the current one") {
    upcaster_chain up;
    up.rename("FundsAdded", 1, "AccountOpened", 2);
    CHECK_THAT(failure_of(up.check(current), errc::invalid_argument), Catch::Contains("above its current version 1"));
  }
  SECTION("a cycle") {
    upcaster_chain up;
    up.rename("A", 1, "B", 1).step("B", 1, identity).rename("B", 2, "A", 1);
    CHECK(failure_of(up.check(current), errc::invalid_argument) ==
          "the upcasters form a cycle: A schema version 1 -> B schema version 1 -> B schema version 2 -> A schema "
          "version 1");
  }
  SECTION("an upcaster at a current version") {
    upcaster_chain up;
    up.step("MoneyDeposited", 1, identity).step("MoneyDeposited", 2, identity).step("MoneyDeposited", 3, identity);
    CHECK_THAT(failure_of(up.check(current), errc::invalid_argument),
               Catch::Contains("step of MoneyDeposited schema version 3"));
  }
  SECTION("empty names, version 0 and missing functions") {
    upcaster_chain up;
    up.step("", 1, identity).step("X", 0, identity).step("Y", 1, nullptr).split("Z", 1, {}, nullptr);
    auto msg = failure_of(up.check(current), errc::invalid_argument);
    CHECK_THAT(msg, Catch::Contains("empty event type") && Catch::Contains("step of X schema version 0") &&
                        Catch::Contains("step of Y schema version 1 has no function") &&
                        Catch::Contains("split of Z schema version 1 has no function"));
  }
}
