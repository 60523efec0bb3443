// Registration rules: what the builder accepts and what it refuses at start.
#include <catch2/catch.hpp>

#include <interlock/runtime/aggregate_test.hpp>
#include <interlock/runtime/nlohmann_json.hpp>

#include "bank_app.hpp"

using namespace testing_support;

namespace fridge {

// Field-less commands and events need no JSON code: they are stored as {}.
struct Freeze {
  using result_type = void;
};
struct Frozen {};
struct IsFrozen {
  using result_type = bool;
};

struct Fridge : interlock::aggregate<Fridge> {
  using commands = interlock::types<Freeze>;
  using events = interlock::types<Frozen>;
  bool frozen = false;
  void handle(const Freeze&) {
    if (frozen) throw interlock::rejected{"already frozen"};
    emit(Frozen{});
  }
  void apply(const Frozen&) { frozen = true; }
};

struct FrozenCount {
  using events = interlock::types<Frozen>;
  using queries = interlock::types<IsFrozen>;
  int count = 0;
  void on(const Frozen&) { ++count; }
  bool handle(const IsFrozen&) const { return count > 0; }
};

}  // namespace fridge

namespace other {

struct Opened {  // same unqualified name as testbank::Opened, different fields
  int code = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Opened, code)
struct Start {
  using result_type = void;
  int code = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Start, code)

struct Machine : interlock::aggregate<Machine> {
  using commands = interlock::types<Start>;
  using events = interlock::types<Opened>;
  void handle(const Start& s) { emit(Opened{s.code}); }
  void apply(const Opened&) {}
};

}  // namespace other

TEST_CASE("registration: empty structs are commands, events and queries without JSON code", "[registration]") {
  interlock::aggregate_test<fridge::Fridge> t;
  t.when(fridge::Freeze{}).then(fridge::Frozen{});
  t.when(fridge::Freeze{}).then_rejected("already frozen");

  temp_dir dir;
  actor_env env;
  interlock::application_builder b{env.sys};
  auto app = b.aggregate<fridge::Fridge>().projection<fridge::FrozenCount>().sqlite(dir.file("f.db")).build();
  REQUIRE(app);
  auto r = app->dispatch("f1", fridge::Freeze{});
  REQUIRE(r);
  CHECK(*app->query(fridge::IsFrozen{}, {.after = r->position}));
  auto twice = app->dispatch("f1", fridge::Freeze{});
  REQUIRE_FALSE(twice);
  CHECK(interlock::message_of(twice.error()) == "already frozen");
}

TEST_CASE("registration: one event name for two C++ types is refused at start", "[registration]") {
  actor_env env;
  interlock::application_builder b{env.sys};
  auto app = b.aggregate<testbank::Account>().aggregate<other::Machine>().in_memory().build();
  REQUIRE_FALSE(app);
  CHECK(interlock::describe(app.error()) ==
        "invalid_argument: event type name Opened names two different C++ types (in Account and Machine); give one "
        "of them its own `type_name`");
}

TEST_CASE("registration: an aggregate or projection registered twice is refused", "[registration]") {
  actor_env env;
  interlock::application_builder a{env.sys};
  auto twice = a.aggregate<fridge::Fridge>().aggregate<fridge::Fridge>().in_memory().build();
  REQUIRE_FALSE(twice);
  CHECK(interlock::describe(twice.error()) == "invalid_argument: aggregate Fridge is registered twice");
  interlock::application_builder p{env.sys};
  auto proj = p.projection<testbank::Balances>().projection<testbank::Balances>().in_memory().build();
  REQUIRE_FALSE(proj);
  CHECK(interlock::describe(proj.error()) == "invalid_argument: projection Balances is registered twice");
}

namespace {
struct Renamed {
  static constexpr std::string_view type_name = "bank.v2.Renamed";
  static constexpr std::uint32_t schema_version = 3;
};
}  // namespace

TEST_CASE("registration: type names can be pinned with a static member", "[registration]") {
  CHECK(interlock::type_name_of<Renamed>() == "bank.v2.Renamed");
  CHECK(interlock::schema_version_of<Renamed>() == 3);
  CHECK(interlock::type_name_of<testbank::Deposited>() == "Deposited");
  CHECK(interlock::type_name_of<other::Opened>() == "Opened");
  CHECK(interlock::schema_version_of<testbank::Deposited>() == 1);
}

namespace clash {

struct Open {  // a different C++ type with testbank::Open's name
  using result_type = std::string;
  std::vector<int> data;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Open, data)
struct GetBalance {
  using result_type = std::vector<std::string>;
};

struct Twins : interlock::aggregate<Twins> {  // two listed commands share a name
  using commands = interlock::types<testbank::Open, Open>;
  using events = interlock::types<testbank::Opened>;
  void handle(const testbank::Open& o) { emit(testbank::Opened{o.owner}); }
  std::string handle(const Open&) { return "x"; }
  void apply(const testbank::Opened&) {}
};

}  // namespace clash

TEST_CASE("registration: a command or query is never run by another type's handler", "[registration]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  auto cmd = app->dispatch("acc", clash::Open{{1, 2, 3}});
  REQUIRE_FALSE(cmd);
  CHECK(interlock::describe(cmd.error()) ==
        "unknown_command: the command type named Open is not the C++ type aggregate Account handles under that "
        "name; give one of them its own `type_name`");
  auto q = app->query(clash::GetBalance{});
  REQUIRE_FALSE(q);
  CHECK(interlock::is(q.error(), interlock::errc::unknown_query));
  REQUIRE(app->dispatch("acc", testbank::Open{"real"}));  // the real one still works
}

TEST_CASE("registration: two listed types with one name are refused at start", "[registration]") {
  actor_env env;
  interlock::application_builder b{env.sys};
  auto app = b.aggregate<clash::Twins>().in_memory().build();
  REQUIRE_FALSE(app);
  CHECK(interlock::describe(app.error()) ==
        "invalid_argument: aggregate Twins lists two command types named Open; give one of them its own `type_name`");
}

TEST_CASE("registration: bad settings are refused at start, naming the setting", "[registration]") {
  actor_env env;
  auto build_with = [&](auto change) {
    interlock::runtime_settings s;
    change(s);
    interlock::application_builder b{env.sys};
    b.aggregate<testbank::Account>().settings(s).in_memory();
    return b.build();
  };
  auto zero_batch = build_with([](auto& s) { s.read_batch = 0; });
  REQUIRE_FALSE(zero_batch);
  CHECK(interlock::describe(zero_batch.error()) == "invalid_argument: setting read_batch must be at least 1");
  auto zero_timeout = build_with([](auto& s) { s.journal_timeout = std::chrono::milliseconds{0}; });
  REQUIRE_FALSE(zero_timeout);
  CHECK(interlock::message_of(zero_timeout.error()) == "setting journal_timeout must be positive");
}
