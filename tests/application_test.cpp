#include <catch2/catch.hpp>

#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/runtime/actor_api.hpp>
#include <interlock/runtime/nlohmann_json.hpp>

#include <map>
#include <optional>
#include <thread>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;
using interlock::errc;

namespace {

std::vector<interlock::stored_event> stream_of(const std::string& db, const std::string& id) {
  auto j = interlock::open_sqlite_journal({db});
  REQUIRE(j);
  auto events = (*j)->read_stream("Account", id, 1, 1000);
  REQUIRE(events);
  return *events;
}

struct Twin : interlock::aggregate<Twin> {  // handles a command Account handles too
  using commands = interlock::types<Open>;
  using events = interlock::types<Opened>;
  void handle(const Open& c) { emit(Opened{c.owner}); }
  void apply(const Opened&) {}
};

}  // namespace

TEST_CASE("app: dispatch returns typed results and where the events landed", "[app]") {
  temp_dir dir;
  actor_env env;
  auto app = start_bank(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  auto opened = app->dispatch("acc-1", Open{"Alice"});
  REQUIRE(opened);
  CHECK(opened->aggregate_id == "acc-1");
  CHECK(opened->version == 1);
  CHECK(opened->position == 1);
  CHECK(opened->events == 1);
  Deposit d;
  d.amount = 40;
  auto first = app->dispatch("acc-1", d);
  auto second = app->dispatch("acc-1", d);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->value == 40);
  CHECK(second->value == 80);
  CHECK(second->version == 3);
  CHECK(second->position == 3);
  auto balance = app->query(GetBalance{"acc-1"}, {.after = second->position});
  REQUIRE(balance);
  CHECK(*balance == 80);
}

TEST_CASE("app: create() dispatches to a fresh ULID", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  auto r = app->create(Open{"Carol"});
  REQUIRE(r);
  CHECK(interlock::ulid::parse(r->aggregate_id));
}

TEST_CASE("app: a rejected command leaves journal and state untouched", "[app]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("acc-1", Open{"Alice"}));
  REQUIRE(app->dispatch("acc-1", Deposit{{}, 100, "a"}));
  auto before = stream_of(db, "acc-1");

  auto overdraft = app->dispatch("acc-1", Withdraw{500});
  REQUIRE_FALSE(overdraft);
  CHECK(interlock::is(overdraft.error(), errc::rejected));
  CHECK(interlock::message_of(overdraft.error()) == "Insufficient funds: balance 100, requested 500");
  auto negative = app->dispatch("acc-1", Deposit{{}, -5, "neg"});
  REQUIRE_FALSE(negative);
  CHECK(interlock::describe(negative.error()) == "rejected: Amount must be positive");

  CHECK(stream_of(db, "acc-1").size() == before.size());
  auto ping = app->dispatch("acc-1", Ping{1});  // the actor kept serving, at the same version
  REQUIRE(ping);
  CHECK(ping->value == "acc-1:1@2");
  auto ok = app->dispatch("acc-1", Withdraw{60});
  REQUIRE(ok);
  CHECK(ok->version == 3);
  CHECK(*app->query(GetBalance{"acc-1"}, {.after = ok->position}) == 40);
}

TEST_CASE("app: a command that emits nothing writes nothing", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  auto r = app->dispatch("acc-9", Ping{7});
  REQUIRE(r);
  CHECK(r->value == "acc-9:7@0");
  CHECK(r->events == 0);
  CHECK(r->position == 0);
}

TEST_CASE("app: unknown commands, queries and bad ids are clear errors", "[app]") {
  struct Stray {
    using result_type = void;
    int x = 0;
  };
  struct StrayQuery {
    using result_type = int;
  };
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  auto cmd = app->dispatch("a", Stray{});
  REQUIRE_FALSE(cmd);
  CHECK(interlock::describe(cmd.error()) == "unknown_command: no registered aggregate handles command Stray");
  auto q = app->query(StrayQuery{});
  REQUIRE_FALSE(q);
  CHECK(interlock::describe(q.error()) == "unknown_query: no registered projection answers query StrayQuery");
  auto empty = app->dispatch("", Open{"x"});
  REQUIRE_FALSE(empty);
  CHECK(interlock::describe(empty.error()) == "invalid_argument: command Open has an empty aggregate id");
}

TEST_CASE("app: read-your-writes waits for the projection, and times out clearly", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"A"}));
  auto r = app->dispatch("a", Deposit{{}, 5, "x"});
  REQUIRE(r);
  auto late = app->query_async(GetBalance{"a"}, {.after = r->position + 1, .timeout = std::chrono::seconds(10)});
  auto r2 = app->dispatch("a", Deposit{{}, 6, "y"});
  REQUIRE(r2);
  CHECK(late.get() == 11);  // answered only once position r->position + 1 was applied
  auto never = app->query(GetBalance{"a"}, {.after = 1000, .timeout = std::chrono::milliseconds(200)});
  REQUIRE_FALSE(never);
  CHECK(interlock::is(never.error(), errc::timeout));
  CHECK(interlock::message_of(never.error()) == "projection Balances did not reach position 1000 within 200 ms (it is at 3)");
}

TEST_CASE("app: the envelope records command, correlation and causation ids", "[app]") {
  temp_dir dir;
  auto db = dir.file("bank.db");
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("acc", Open{"A"}, {.command_id = "cmd-1", .correlation_id = "conv-9", .causation_id = "evt-3"}));
  auto implicit = app->dispatch("acc", Deposit{{}, 1, "t"});
  REQUIRE(implicit);
  auto events = stream_of(db, "acc");
  REQUIRE(events.size() == 2);
  CHECK(events[0].command_id == "cmd-1");
  CHECK(events[0].correlation_id == "conv-9");
  CHECK(events[0].causation_id == "evt-3");
  CHECK(events[0].aggregate_type == "Account");
  CHECK(events[0].event_type == "Opened");
  CHECK(events[0].payload == R"({"owner":"A"})");
  CHECK(interlock::ulid::parse(events[1].command_id));           // generated
  CHECK(events[1].correlation_id == events[1].command_id);       // a new conversation
  auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(std::abs(now_us - events[1].recorded_at_us) < 60'000'000);
}

TEST_CASE("app: actors dispatch and query without blocking", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  auto& a = *app;
  caf::scoped_actor self{env.sys};
  auto user = env.sys.spawn([&a](caf::event_based_actor* me) -> caf::behavior {
    return {[=, &a](std::string id) {
      auto rp = me->make_response_promise<std::int64_t>();
      interlock::async_dispatch(me, a, id, Open{"Actor"}, [=, &a](caf::expected<interlock::receipt<void>> opened) mutable {
        if (!opened) {
          rp.deliver(opened.error());
          return;
        }
        interlock::async_dispatch(me, a, id, Deposit{{}, 42, "x"}, [=, &a](caf::expected<interlock::receipt<std::int64_t>> r) mutable {
          if (!r) {
            rp.deliver(r.error());
            return;
          }
          interlock::async_query(me, a, GetBalance{id}, [=](caf::expected<std::int64_t> b) mutable {
            if (b) rp.deliver(*b); else rp.deliver(b.error());
          }, {.after = r->position});
        });
      });
      return rp;
    }};
  });
  self->request(user, std::chrono::seconds(10), std::string{"from-actor"})
      .receive([](std::int64_t balance) { CHECK(balance == 42); },
               [](caf::error& err) { FAIL(interlock::describe(err)); });
  self->send_exit(user, caf::exit_reason::user_shutdown);
}

TEST_CASE("app: async_dispatch lets go of its callback once it has run, on the caller's thread", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  auto& a = *app;
  caf::scoped_actor self{env.sys};
  auto user = env.sys.spawn([&a](caf::event_based_actor* me) -> caf::behavior {
    auto pending = std::make_shared<caf::typed_response_promise<long>>();
    auto watched = std::make_shared<std::weak_ptr<int>>();
    return {[=, &a](std::string id) -> caf::result<long> {
              *pending = me->make_response_promise<long>();
              auto token = std::make_shared<int>(0);  // held by the callback alone
              *watched = token;
              interlock::async_dispatch(me, a, id, Open{"Actor"},
                                        [me, token](caf::expected<interlock::receipt<void>>) {
                                          me->send(me, caf::get_atom::value);  // handled after this returns
                                        });
              return *pending;
            },
            [=](caf::get_atom) { pending->deliver(static_cast<long>(watched->use_count())); }};
  });
  self->request(user, std::chrono::seconds(10), std::string{"let-go"})
      .receive([](long holders) { CHECK(holders == 0); },  // not kept for the deadline keeper's next tick
               [](caf::error& err) { FAIL(interlock::describe(err)); });
  self->send_exit(user, caf::exit_reason::user_shutdown);
}

TEST_CASE("app: an unusable database path is a clear error at start", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "/proc/interlock-cannot-write-here/x.db");
  REQUIRE_FALSE(app);
  CHECK(interlock::is(app.error(), errc::storage));
  CHECK_THAT(interlock::message_of(app.error()), Catch::Contains("/proc/interlock-cannot-write-here/x.db"));
}

TEST_CASE("app: two aggregates handling one command type is a start-up error", "[app]") {
  actor_env env;
  interlock::application_builder b{env.sys};
  auto app = b.aggregate<Account>().aggregate<Twin>().in_memory().build();
  REQUIRE_FALSE(app);
  CHECK(interlock::describe(app.error()) == "invalid_argument: command Open is handled by both Account and Twin");
}

TEST_CASE("app: a rebuilt projection answers as before", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  std::uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    auto id = "acc-" + std::to_string(i);
    REQUIRE(app->dispatch(id, Open{"o"}));
    auto r = app->dispatch(id, Deposit{{}, 10 * (i + 1), "t"});
    REQUIRE(r);
    last = r->position;
  }
  auto before = app->query(GetTotals{}, {.after = last});
  auto seen_before = app->query(GetSeen{}, {.after = last});
  REQUIRE(before);
  REQUIRE(!app->rebuild<Balances>());
  REQUIRE(!app->rebuild<Audit>());
  CHECK(app->query(GetTotals{}) == *before);
  CHECK(app->query(GetSeen{}) == *seen_before);
  CHECK(interlock::is(app->rebuild("Nope"), errc::invalid_argument));
}

TEST_CASE("app: requests after stop() or cut off by it fail with errc::unavailable", "[app]") {
  temp_dir dir;
  actor_env env;
  auto app = start_bank(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Open{"A"}));
  std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> pending;
  for (int i = 0; i < 3000; ++i) pending.push_back(app->dispatch_async("a", Deposit{{}, 1, std::to_string(i)}));
  app->stop();
  int ok = 0, unavailable = 0;
  for (auto& f : pending) {
    auto r = f.get();  // every future completes: no hang, no broken promise
    if (r) ++ok;
    else if (interlock::is(r.error(), errc::unavailable)) ++unavailable;
  }
  CHECK(ok + unavailable == 3000);
  auto late = app->dispatch("a", Deposit{{}, 1, "late"});
  REQUIRE_FALSE(late);
  CHECK(interlock::describe(late.error()) == "unavailable: the application is stopped");
  auto q = app->query(GetBalance{"a"});
  REQUIRE_FALSE(q);
  CHECK(interlock::is(q.error(), errc::unavailable));
  // Every acknowledged deposit is stored. (Commands cut off in flight are
  // answered "may or may not have been committed": some of them were.)
  auto j = interlock::open_sqlite_journal({dir.file("bank.db")});
  REQUIRE(j);
  auto events = (*j)->read_stream("Account", "a", 1, 10000);
  REQUIRE(events);
  CHECK(events->size() >= static_cast<std::size_t>(ok) + 1);  // and the open
  for (std::size_t i = 0; i < events->size(); ++i) CHECK((*events)[i].version == i + 1);
}

namespace {

struct Stall {  // blocks its aggregate for a while (a slow handler)
  using result_type = void;
  int ms = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Stall, ms)
struct Stalled {
  int ms = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Stalled, ms)
struct Throw {
  using result_type = int;
};

struct Slowpoke : interlock::aggregate<Slowpoke> {
  using commands = interlock::types<Stall>;
  using events = interlock::types<Stalled>;
  void handle(const Stall& s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(s.ms));
    emit(Stalled{s.ms});
  }
  void apply(const Stalled&) {}
};

struct Thrower {
  using events = interlock::types<Stalled>;
  using queries = interlock::types<Throw>;
  int seen = 0;
  void on(const Stalled&) { ++seen; }
  int handle(const Throw&) {
    if (seen == 0) throw 42;  // not a std::exception
    return seen;
  }
};

struct Nap {  // keeps its projection busy for a while (a slow query handler)
  using result_type = int;
  int ms = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Nap, ms)

struct Sleepy {
  using events = interlock::types<Stalled>;
  using queries = interlock::types<Nap>;
  void on(const Stalled&) {}
  int handle(const Nap& n) const {
    std::this_thread::sleep_for(std::chrono::milliseconds(n.ms));
    return n.ms;
  }
};

caf::expected<interlock::application> start_slowpoke(caf::actor_system& sys, const std::string& db) {
  interlock::application_builder b{sys};
  return b.aggregate<Slowpoke>().sqlite(db).build();
}

// A user's actor: on (stall_ms, timeout_ms) it sends Stall{stall_ms} with that
// timeout through async_dispatch and answers with what its callback got and
// how long it took ("ok after 0+ ms", rounded down to 50 ms).
caf::behavior stall_caller(caf::event_based_actor* me, interlock::application* app) {
  return {[=](int stall_ms, int timeout_ms) {
    auto rp = me->make_response_promise<std::string>();
    const auto start = std::chrono::steady_clock::now();
    interlock::async_dispatch(
        me, *app, "s", Stall{stall_ms},
        [=](caf::expected<interlock::receipt<void>> r) mutable {
          const auto took =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
          rp.deliver((r ? std::string{"ok"} : interlock::describe(r.error())) + " after " +
                     std::to_string(took.count() / 50 * 50) + "+ ms");
        },
        {.timeout = std::chrono::milliseconds(timeout_ms)});
    return rp;
  }};
}

// A Slowpoke application on a fresh file, and a stall_caller using it.
struct slowpoke_fixture {
  temp_dir dir;
  actor_env env;
  caf::expected<interlock::application> app = start_slowpoke(env.sys, dir.file("slow.db"));
  caf::actor user = app ? env.sys.spawn(stall_caller, &*app) : caf::actor{};
  caf::scoped_actor self{env.sys};
  ~slowpoke_fixture() {
    if (user) self->send_exit(user, caf::exit_reason::user_shutdown);
  }
};

}  // namespace

TEST_CASE("app: a command whose caller gave up while it waited is not run", "[app]") {
  temp_dir dir;
  auto db = dir.file("slow.db");
  actor_env env;
  interlock::application_builder b{env.sys};
  auto app = b.aggregate<Slowpoke>().sqlite(db).build();
  REQUIRE(app);
  auto slow = app->dispatch_async("s", Stall{400});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the slow one start first
  auto impatient = app->dispatch("s", Stall{1}, {.timeout = std::chrono::milliseconds(100)});
  REQUIRE_FALSE(impatient);
  CHECK(interlock::is(impatient.error(), errc::timeout));
  CHECK_THAT(interlock::message_of(impatient.error()), Catch::Contains("its outcome is unknown"));
  REQUIRE(slow.get());
  auto after = app->dispatch("s", Stall{0});
  REQUIRE(after);
  CHECK(after->version == 2);  // the impatient command never ran
}

TEST_CASE_METHOD(slowpoke_fixture, "app: async_dispatch times out on time, and the late reply does no harm",
                 "[app]") {
  REQUIRE(app);
  std::string first, second;
  self->request(user, std::chrono::seconds(10), 600, 100).receive([&](std::string& s) { first = s; },
                                                                  [](caf::error& err) { FAIL(interlock::describe(err)); });
  CHECK_THAT(first, Catch::StartsWith("timeout: command Stall to Slowpoke/s: no reply within 100 ms") &&
                        Catch::Contains("its outcome is unknown"));
  CHECK_THAT(first, Catch::EndsWith("after 100+ ms"));  // a tick or so late, not the stall's 600 ms
  // The stalled command still commits; its reply reaches the actor after the
  // timeout and is dropped: the actor goes on working.
  self->request(user, std::chrono::seconds(10), 0, 5000).receive([&](std::string& s) { second = s; },
                                                                 [](caf::error& err) { FAIL(interlock::describe(err)); });
  CHECK_THAT(second, Catch::StartsWith("ok after "));
  auto version = app->dispatch("s", Stall{0});
  REQUIRE(version);
  CHECK(version->version == 3);
}

TEST_CASE_METHOD(slowpoke_fixture, "app: a command in flight from an actor is answered when the application stops",
                 "[app]") {
  REQUIRE(app);
  auto answer = self->request(user, std::chrono::seconds(20), 300, 30'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the command is in its handler
  const auto stopping = std::chrono::steady_clock::now();
  app->stop();
  std::string got;
  answer.receive([&](std::string& s) { got = s; }, [](caf::error& err) { FAIL(interlock::describe(err)); });
  // Either its reply made it out before the aggregate stopped, or the caller
  // hears at once that the application stopped; never the 30 s timeout.
  CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(10));
  if (!got.starts_with("ok")) CHECK_THAT(got, Catch::StartsWith("unavailable: "));
}

TEST_CASE("app: a projection survives a handler throwing a non-standard exception", "[app]") {
  actor_env env;
  interlock::application_builder b{env.sys};
  auto app = b.aggregate<Slowpoke>().projection<Thrower>().in_memory().build();
  REQUIRE(app);
  auto thrown = app->query(Throw{});
  REQUIRE_FALSE(thrown);
  CHECK(interlock::describe(thrown.error()) == "rejected: query Throw failed with a non-standard exception");
  auto r = app->dispatch("s", Stall{0});
  REQUIRE(r);
  CHECK(app->query(Throw{}, {.after = r->position}) == 1);
}

TEST_CASE("app: non-positive timeouts are refused", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  auto d = app->dispatch("a", Open{"x"}, {.timeout = std::chrono::milliseconds(0)});
  REQUIRE_FALSE(d);
  CHECK(interlock::describe(d.error()) == "invalid_argument: dispatch timeout must be positive");
  auto q = app->query(GetBalance{"a"}, {.timeout = std::chrono::milliseconds(-1)});
  REQUIRE_FALSE(q);
  CHECK(interlock::describe(q.error()) == "invalid_argument: query timeout must be positive");
}

TEST_CASE("app: a moved-from application answers with errors, not crashes", "[app]") {
  actor_env env;
  auto app = start_bank(env.sys, "");
  REQUIRE(app);
  auto moved = std::move(*app);
  auto d = app->dispatch("a", Open{"x"});
  REQUIRE_FALSE(d);
  CHECK(interlock::is(d.error(), errc::unavailable));
  CHECK(interlock::is(app->query(GetBalance{"a"}).error(), errc::unavailable));
  CHECK(interlock::is(app->rebuild<Balances>(), errc::unavailable));
  CHECK(moved.dispatch("a", Open{"x"}));
}

namespace {

// Opens 20 accounts at once with these settings, stops, and counts the events
// of each transaction (the journal stamps one time per transaction).
std::map<std::int64_t, int> events_per_commit_of_20_opens(interlock::runtime_settings s) {
  temp_dir dir;
  auto db = dir.file("bank.db");
  actor_env env;
  interlock::application_builder b{env.sys};
  register_bank(b).settings(s).sqlite(db);
  auto app = b.build();
  REQUIRE(app);
  std::vector<std::future<caf::expected<interlock::receipt<void>>>> opens;
  for (int i = 0; i < 20; ++i) opens.push_back(app->dispatch_async("acc-" + std::to_string(i), Open{"o"}));
  for (auto& f : opens) REQUIRE(f.get());
  app->stop();
  auto j = interlock::open_sqlite_journal({db});
  REQUIRE(j);
  auto all = (*j)->read_all(1, 100);
  REQUIRE(all);
  REQUIRE(all->size() == 20);
  std::map<std::int64_t, int> per_commit;
  for (auto& e : *all) ++per_commit[e.recorded_at_us];
  return per_commit;
}

}  // namespace

TEST_CASE("app: group commit puts appends from many aggregates in one transaction", "[app][group-commit]") {
  interlock::runtime_settings s;
  s.group_commit_wait = std::chrono::milliseconds(300);  // wide enough to gather every append
  CHECK(events_per_commit_of_20_opens(s).size() <= 2);  // one batch (two if the first append was taken alone)
}

TEST_CASE("app: a full batch is committed at once, without waiting out group_commit_wait", "[app][group-commit]") {
  interlock::runtime_settings s;
  s.max_batch = 3;
  s.group_commit_wait = std::chrono::seconds(60);  // far longer than this test may take
  temp_dir dir;
  actor_env env;
  interlock::application_builder b{env.sys};
  register_bank(b).settings(s).sqlite(dir.file("bank.db"));
  auto app = b.build();
  REQUIRE(app);
  std::vector<std::future<caf::expected<interlock::receipt<void>>>> opens;
  for (int i = 0; i < 3; ++i) opens.push_back(app->dispatch_async("acc-" + std::to_string(i), Open{"o"}));
  // The third append fills the batch: it goes then, not a minute after the first.
  for (auto& f : opens) REQUIRE(f.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  for (auto& f : opens) CHECK(f.get());
}

TEST_CASE("app: max_batch bounds the appends one transaction holds", "[app][group-commit]") {
  interlock::runtime_settings s;
  s.max_batch = 3;
  s.group_commit_wait = std::chrono::milliseconds(300);  // all 20 would share one transaction but for max_batch
  auto per_commit = events_per_commit_of_20_opens(s);
  CHECK(per_commit.size() >= 7);
  for (auto& [at, n] : per_commit) CHECK(n <= 3);
}

TEST_CASE("app: a query its projection is too busy to answer in time gets errc::timeout from the deadline keeper",
          "[app]") {
  temp_dir dir;
  actor_env env;
  interlock::application_builder b{env.sys};
  auto app = b.aggregate<Slowpoke>().projection<Sleepy>().sqlite(dir.file("sleepy.db")).build();
  REQUIRE(app);
  auto busy = app->query_async(Nap{1500});  // holds the projection
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  auto late = app->query(Nap{0}, {.timeout = std::chrono::milliseconds(100)});
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(late);
  CHECK(interlock::is(late.error(), errc::timeout));
  CHECK_THAT(interlock::message_of(late.error()), Catch::Contains("query Nap"));
  CHECK(took < std::chrono::milliseconds(1000));  // answered at its deadline, not once the projection is free
  CHECK(busy.get() == 1500);
}

TEST_CASE("app: a builder without an actor system runs the application in one of its own, for as long as it lives",
          "[app]") {
  temp_dir dir;
  const auto db = dir.file("own.db");
  std::optional<interlock::application> app;
  {
    interlock::application_builder b;  // the builder goes first: the system lives on with the application
    testbank::register_bank(b);
    auto built = b.sqlite(db).build();
    REQUIRE(built);
    app.emplace(std::move(*built));
  }
  REQUIRE(app->dispatch("a", Open{"A"}));
  auto r = app->dispatch("a", Deposit{{}, 7, "x"});
  REQUIRE(r);
  CHECK(app->query(GetBalance{"a"}, {.after = r->position}) == 7);
  app.reset();  // stops the actors, then the system
  interlock::application_builder again;
  testbank::register_bank(again);
  auto reopened = again.sqlite(db).build();
  REQUIRE(reopened);
  CHECK(reopened->query(GetBalance{"a"}, {.after = 2}) == 7);
}
