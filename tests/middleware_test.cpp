// The command middleware pipeline (order, enrichment, short-circuit, outcome),
// the logging middleware, and context propagation to caused commands.
#include <catch2/catch.hpp>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;
using interlock::errc;

namespace {

struct recorder : interlock::command_middleware {
  recorder(std::string name, std::shared_ptr<std::vector<std::string>> trail) : name(std::move(name)), trail(trail) {}
  std::optional<interlock::command_result> before(interlock::command_envelope& cmd) override {
    trail->push_back("before " + name + " " + cmd.command_type + " " + cmd.aggregate_type + "/" + cmd.aggregate_id);
    return std::nullopt;
  }
  void after(const interlock::command_envelope& cmd, const interlock::command_result& r,
             std::chrono::microseconds took) override {
    trail->push_back("after " + name + " " + cmd.command_type + (r.error ? " error" : " ok v" + std::to_string(r.version)) +
                     " events " + std::to_string(r.events));
    CHECK(took.count() >= 0);
  }
  std::string name;
  std::shared_ptr<std::vector<std::string>> trail;
};

// Refuses withdrawals (say, an account frozen by an operator), answers a
// second Open of "dup" itself (a success, nothing runs), and tags every
// command's conversation with a tenant.
struct policy : interlock::command_middleware {
  std::optional<interlock::command_result> before(interlock::command_envelope& cmd) override {
    if (cmd.command_type == "Withdraw")
      return interlock::command_result{interlock::make_error(errc::rejected, "withdrawals are frozen")};
    if (cmd.aggregate_id == "dup" && (cmd.command_type == "Open" || cmd.command_type == "Deposit") && seen_dup)
      return interlock::command_result{{}, 1, 1, 1};
    seen_dup = seen_dup || cmd.aggregate_id == "dup";
    cmd.correlation_id = "tenant-42";
    return std::nullopt;
  }
  bool seen_dup = false;
};

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db,
                                            std::vector<std::shared_ptr<interlock::command_middleware>> pipeline) {
  interlock::application_builder b{sys};
  register_bank(b);
  for (auto& m : pipeline) b.use(m);
  return b.sqlite(db).build();
}

}  // namespace

TEST_CASE("middleware: before() in order, after() in reverse, with the outcome", "[middleware]") {
  temp_dir dir;
  actor_env env;
  auto trail = std::make_shared<std::vector<std::string>>();
  auto app = start(env.sys, dir.file("bank.db"),
                   {std::make_shared<recorder>("A", trail), std::make_shared<recorder>("B", trail)});
  REQUIRE(app);
  REQUIRE(app->dispatch("acc", Open{"Alice"}));
  REQUIRE_FALSE(app->dispatch("acc", Withdraw{5}));  // rejected by the aggregate
  CHECK(*trail == std::vector<std::string>{
                      "before A Open Account/acc", "before B Open Account/acc", "after B Open ok v1 events 1",
                      "after A Open ok v1 events 1", "before A Withdraw Account/acc", "before B Withdraw Account/acc",
                      "after B Withdraw error events 0", "after A Withdraw error events 0"});
}

TEST_CASE("middleware: short-circuit with an error, enrich the envelope", "[middleware]") {
  temp_dir dir;
  actor_env env;
  auto trail = std::make_shared<std::vector<std::string>>();
  auto app = start(env.sys, dir.file("bank.db"), {std::make_shared<recorder>("log", trail), std::make_shared<policy>()});
  REQUIRE(app);
  REQUIRE(app->dispatch("acc", Open{"Alice"}));
  REQUIRE(app->dispatch("acc", Deposit{{}, 10, "t"}));
  auto frozen = app->dispatch("acc", Withdraw{5});
  REQUIRE_FALSE(frozen);
  CHECK(interlock::describe(frozen.error()) == "rejected: withdrawals are frozen");
  CHECK(trail->back() == "after log Withdraw error events 0");
  auto state = app->load_as_of<Account>("acc");
  REQUIRE(state);
  CHECK(state->state.balance == 10);  // the withdrawal never ran
  CHECK(state->state.version() == 2);
  CHECK(state->last->correlation_id == "tenant-42");  // stored with the events

  // A success in the command's place: nothing runs, the receipt is the middleware's.
  auto opened = app->dispatch("dup", Open{"Dup"});
  REQUIRE(opened);
  auto again = app->dispatch("dup", Open{"Dup"});  // the aggregate would reject this one
  REQUIRE(again);
  CHECK((again->version == 1 && again->position == 1 && again->events == 1));
  CHECK(trail->back() == "after log Open ok v1 events 1");
  auto typed = app->dispatch("dup", Deposit{{}, 5, "x"});  // Deposit returns a balance: none can be made up
  REQUIRE_FALSE(typed);
  CHECK(interlock::is(typed.error(), errc::invalid_argument));
  CHECK(app->load_as_of<Account>("dup")->state.version() == 1);
}

TEST_CASE("middleware: the logging middleware writes one line per command", "[middleware]") {
  temp_dir dir;
  actor_env env;
  auto lines = std::make_shared<std::vector<std::string>>();
  interlock::set_log_sink([lines](interlock::log_level, std::string_view l) { lines->emplace_back(l); });
  interlock::runtime_settings s;
  s.database_path = dir.file("bank.db");
  s.log_level = "info";
  interlock::application_builder b{env.sys};
  register_bank(b);
  auto app = b.settings(s).use(interlock::logging_middleware()).build();
  REQUIRE(app);
  REQUIRE(app->dispatch("acc", Open{"Alice"}, [] { interlock::dispatch_options o; o.correlation_id = "conv-1"; return o; }()));
  REQUIRE_FALSE(app->dispatch("acc", Withdraw{5}));
  interlock::set_log_sink(nullptr);
  interlock::set_log_level(interlock::log_level::warning);
  REQUIRE(lines->size() == 2);
  CHECK_THAT((*lines)[0], Catch::StartsWith("command Open to Account/acc ok: 1 event(s), version 1 in ") &&
                              Catch::Contains("correlation conv-1"));
  CHECK_THAT((*lines)[1], Catch::StartsWith("command Withdraw to Account/acc failed: rejected: Insufficient funds"));
}

TEST_CASE("context: a command caused by an event joins its conversation and names it", "[middleware][context]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("bank.db"), {});
  REQUIRE(app);
  interlock::dispatch_options first;
  first.correlation_id = "conversation-7";
  REQUIRE(app->dispatch("acc", Open{"Alice"}, first));
  auto opened = app->load_as_of<Account>("acc");
  REQUIRE(opened);
  REQUIRE(opened->last);
  const auto& cause = *opened->last;
  CHECK(cause.correlation_id == "conversation-7");
  // An event processor reacting to that event:
  REQUIRE(app->dispatch("savings", Open{"Alice's savings"}, interlock::caused_by(cause)));
  auto savings = app->load_as_of<Account>("savings");
  REQUIRE(savings);
  CHECK(savings->last->correlation_id == "conversation-7");
  CHECK(savings->last->causation_id == "event:" + std::to_string(cause.position));
}
