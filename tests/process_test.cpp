// Event processors and sagas (runtime/processor.hpp, runtime/saga.hpp): a
// step's commands are stored with its checkpoint and state and sent once
// stored, under deterministic ids; a saga completes, compensates a refused
// command, fires its deadline, and finishes after a restart.
#include <catch2/catch.hpp>

#include <thread>

#include <interlock/persistence/upcaster.hpp>

#include "raw_db.hpp"
#include "test_support.hpp"
#include "transfer_domain.hpp"

using namespace testing_support;
using namespace transfers;

namespace {

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db) {
  interlock::application_builder b{sys};
  register_all(b).sqlite(db, interlock::sync_mode::normal);
  return b.build();
}

std::size_t count(const std::string& db, const std::string& sql) { return raw_db{db}.rows(sql).size(); }

}  // namespace

TEST_CASE("saga: a transfer debits, credits and completes, its commands name it", "[process][saga]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("alice", Open{100}));
  REQUIRE(app->dispatch("bob", Open{0}));
  auto r = app->dispatch("t1", StartTransfer{"alice", "bob", 30}, in_conversation("transfer-1"));
  REQUIRE(r);
  CHECK(eventually([&] { return balance(*app, "bob") == 30; }));
  CHECK(balance(*app, "alice") == 70);
  const auto read_db = interlock::read_store_path_for(db);
  CHECK(eventually([&] { return count(read_db, "SELECT * FROM interlock_saga_state") == 0; }));
  CHECK(eventually([&] { return count(read_db, "SELECT * FROM interlock_outbox") == 0; }));
  app->stop();
  // The debit was caused by the request, under an id derived from the saga and the event's position.
  CHECK(raw_db{db}.rows("SELECT command_id, correlation_id, causation_id FROM events_view WHERE event_type = "
                        "'Debited'") ==
        std::vector<std::string>{"Transfer:" + std::to_string(r->position) + ":0|transfer-1|event:" +
                                 std::to_string(r->position)});
  CHECK(raw_db{db}.rows("SELECT correlation_id FROM events_view WHERE event_type = 'Credited'") ==
        std::vector<std::string>{"transfer-1"});
}

TEST_CASE("saga: a refused credit is compensated by a refund", "[process][saga]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("alice", Open{100}));
  REQUIRE(app->dispatch("closed", Open{0, true}));
  REQUIRE(app->dispatch("t2", StartTransfer{"alice", "closed", 40}, in_conversation("transfer-2")));
  CHECK(eventually([&] {
    return count(db, "SELECT 1 FROM events_view WHERE event_type = 'Refunded' AND aggregate_id = 'alice'") == 1;
  }));
  CHECK(eventually([&] {  // the second command of the step, decided as the refused one left the outbox
    return count(db, "SELECT 1 FROM events_view WHERE event_type = 'TransferFailed' AND aggregate_id = 't2' AND "
                     "payload = '{\"reason\":\"rejected: account closed refuses credits\"}'") == 1;
  }));
  CHECK(balance(*app, "alice") == 100);
  CHECK(balance(*app, "closed") == 0);
  const auto read_db = interlock::read_store_path_for(db);
  CHECK(eventually([&] { return count(read_db, "SELECT * FROM interlock_saga_state") == 0; }));
  app->stop();
  // The refund names the refused credit as its cause.
  auto refund = raw_db{db}.rows("SELECT command_id, causation_id FROM events_view WHERE event_type = 'Refunded'");
  REQUIRE(refund.size() == 1);
  CHECK(refund[0].find(":rejected:0|command:Transfer:") != std::string::npos);
}

TEST_CASE("saga: a restart at any point finishes every transfer, each command once", "[process][saga][restart]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  constexpr int transfers = 20;
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    REQUIRE(app->dispatch("alice", Open{1000}));
    REQUIRE(app->dispatch("bob", Open{0}));
    REQUIRE(app->dispatch("closed", Open{0, true}));
    for (int i = 0; i < transfers; ++i)  // stopped with steps and commands in flight
      app->dispatch_async("t" + std::to_string(i), StartTransfer{"alice", i % 4 == 0 ? "closed" : "bob", 10},
                          in_conversation("transfer-" + std::to_string(i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  const std::int64_t to_bob = 10 * (transfers - transfers / 4);
  const auto read_db = interlock::read_store_path_for(db);
  const bool finished = eventually([&] {
    auto requested = count(db, "SELECT 1 FROM events_view WHERE event_type = 'TransferRequested'");
    return balance(*app, "bob") == 10 * static_cast<std::int64_t>(requested - (requested + 3) / 4) &&
           balance(*app, "alice") == 1000 - balance(*app, "bob") &&
           count(interlock::read_store_path_for(db), "SELECT * FROM interlock_saga_state") == 0;
  });
  if (!finished) {  // what was left, for the report
    auto s = app->status();
    UNSCOPED_INFO("saga: " << (s ? std::string{interlock::to_string(s->front().state)} + " at " +
                                       std::to_string(s->front().position) + ", failure '" + s->front().failure + "'"
                                 : interlock::describe(s.error()))
                           << "; outbox rows: " << count(read_db, "SELECT * FROM interlock_outbox")
                           << "; open conversations: " << count(read_db, "SELECT * FROM interlock_saga_state"));
  }
  CHECK(finished);
  const auto requested = count(db, "SELECT 1 FROM events_view WHERE event_type = 'TransferRequested'");
  INFO("transfers requested before the stop: " << requested << " of " << transfers << "; to bob at most " << to_bob);
  // Every debit, credit and refund once: one event per command id.
  CHECK(count(db, "SELECT command_id FROM events_view WHERE event_type IN ('Debited', 'Credited', 'Refunded') "
                  "GROUP BY command_id HAVING count(*) > 1") == 0);
  CHECK(count(db, "SELECT 1 FROM events_view WHERE event_type = 'Debited'") == requested);
}

// -- deadlines -------------------------------------------------------------

namespace orders {

struct Place {
  using result_type = void;
};
struct Pay {
  using result_type = void;
};
struct Cancel {
  using result_type = void;
};
struct Placed {};
struct Paid {};
struct Cancelled {};

struct Order : interlock::aggregate<Order> {
  using commands = interlock::types<Place, Pay, Cancel>;
  using events = interlock::types<Placed, Paid, Cancelled>;
  bool paid = false;
  void handle(const Place&) { emit(Placed{}); }
  void handle(const Pay&) { emit(Paid{}); }
  void handle(const Cancel&) {
    if (paid) throw interlock::rejected{"order " + id() + " is paid"};
    emit(Cancelled{});
  }
  void apply(const Placed&) {}
  void apply(const Paid&) { paid = true; }
  void apply(const Cancelled&) {}
};

// Cancels an order not paid within `wait_ms`.
struct PaymentWatch : interlock::saga<PaymentWatch> {
  using events = interlock::types<Placed, Paid>;
  using commands = interlock::types<Cancel>;
  std::string order;
  std::int64_t wait_ms = 0;
  // Payment is a command of its own, not one this saga sent: the order is the conversation.
  static std::string conversation(const interlock::event_envelope& env) { return env.aggregate_id; }
  void start(const Placed&, const interlock::event_envelope& env) {
    order = env.aggregate_id;
    set_deadline(std::chrono::milliseconds(wait_ms));
  }
  void on(const Paid&) { complete(); }
  void deadline_passed() {
    dispatch(order, Cancel{});
    complete();
  }
};
INTERLOCK_JSON(PaymentWatch, order, wait_ms)

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db, std::int64_t wait_ms) {
  interlock::application_builder b{sys};
  b.aggregate<Order>().saga<PaymentWatch>(std::string{}, wait_ms).sqlite(db, interlock::sync_mode::normal);
  return b.build();
}

}  // namespace orders

TEST_CASE("saga: a deadline fires unless the saga completes first, also across a restart", "[process][saga]") {
  temp_dir dir;
  const auto db = dir.file("orders.db");
  auto cancelled = [&](const std::string& id) {
    return count(db, "SELECT 1 FROM events_view WHERE event_type = 'Cancelled' AND aggregate_id = '" + id + "'");
  };
  {
    actor_env env;
    auto app = orders::start(env.sys, db, 300);
    REQUIRE(app);
    REQUIRE(app->dispatch("paid", orders::Place{}));
    REQUIRE(app->dispatch("paid", orders::Pay{}));
    REQUIRE(app->dispatch("unpaid", orders::Place{}));
    CHECK(eventually([&] { return cancelled("unpaid") == 1; }));
    REQUIRE(app->dispatch("later", orders::Place{}));  // its deadline is stored, then the program stops
    CHECK(eventually([&] {
      return count(interlock::read_store_path_for(db),
                   "SELECT 1 FROM interlock_saga_state WHERE deadline_us IS NOT NULL") == 1;
    }));
  }
  CHECK(cancelled("later") == 0);
  actor_env env;
  auto app = orders::start(env.sys, db, 300);
  REQUIRE(app);
  CHECK(eventually([&] { return cancelled("later") == 1; }));
  CHECK(cancelled("paid") == 0);
  CHECK(cancelled("unpaid") == 1);
  app->stop();
  CHECK(count(db, "SELECT 1 FROM commands WHERE aggregate_id = 'paid'") == 0);  // no Cancel was even sent
  // Named after the step that set the deadline (unpaid's Placed, position 3): a step decided again names it alike.
  CHECK(count(db, "SELECT 1 FROM commands WHERE command_id = 'PaymentWatch:3:deadline:0'") == 1);
}

// A deadline that comes while a command of its conversation is in flight
// waits for its outcome: here the reservation takes longer than the deadline,
// succeeds, and the saga completes without cancelling the order it reserved for.
namespace slow_stock {

struct Reserve {
  using result_type = void;
};
struct Reserved {};

struct Stock : interlock::aggregate<Stock> {
  using commands = interlock::types<Reserve>;
  using events = interlock::types<Reserved>;
  void handle(const Reserve&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // slower than the saga's deadline
    emit(Reserved{});
  }
  void apply(const Reserved&) {}
};

struct Reservation : interlock::saga<Reservation> {
  using events = interlock::types<orders::Placed, Reserved>;
  using commands = interlock::types<Reserve, orders::Cancel>;
  std::string order;
  void start(const orders::Placed&, const interlock::event_envelope& env) {
    order = env.aggregate_id;
    dispatch("stock-" + order, Reserve{});
    set_deadline(std::chrono::milliseconds(50));
  }
  void on(const Reserved&) { complete(); }
  void deadline_passed() {
    dispatch(order, orders::Cancel{});
    complete();
  }
};
INTERLOCK_JSON(Reservation, order)

}  // namespace slow_stock

TEST_CASE("saga: a deadline never overtakes the outcome of a command of its conversation", "[process][saga]") {
  temp_dir dir;
  const auto db = dir.file("orders.db");
  actor_env env;
  interlock::application_builder b{env.sys};
  b.aggregate<orders::Order>().aggregate<slow_stock::Stock>().saga<slow_stock::Reservation>();
  auto app = b.sqlite(db, interlock::sync_mode::normal).build();
  REQUIRE(app);
  REQUIRE(app->dispatch("o-1", orders::Place{}, in_conversation("o-1")));
  CHECK(eventually([&] { return count(db, "SELECT 1 FROM events_view WHERE event_type = 'Reserved'") == 1; }));
  CHECK(eventually([&] {
    return count(interlock::read_store_path_for(db), "SELECT 1 FROM interlock_saga_state") == 0;  // completed
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a deadline step would have run by now
  CHECK(count(db, "SELECT 1 FROM events_view WHERE event_type = 'Cancelled'") == 0);
}

// -- processors ------------------------------------------------------------

namespace {

struct Award {
  using result_type = void;
  std::int64_t points = 0;
};
struct Awarded {
  std::int64_t points = 0;
};
INTERLOCK_JSON(Award, points)
INTERLOCK_JSON(Awarded, points)

struct Points : interlock::aggregate<Points> {
  using commands = interlock::types<Award>;
  using events = interlock::types<Awarded>;
  std::int64_t total = 0;
  void handle(const Award& c) {
    if (c.points <= 0) throw interlock::rejected{"no points"};
    emit(Awarded{c.points});
  }
  void apply(const Awarded& e) { total += e.points; }
};

// A point per 10 credited.
struct Loyalty : interlock::processor<Loyalty> {
  using events = interlock::types<Credited>;
  using commands = interlock::types<Award>;
  void on(const Credited& e, const interlock::event_envelope& env) {
    dispatch("points-" + env.aggregate_id, Award{e.amount / 10});
  }
};

caf::expected<interlock::application> start_loyalty(caf::actor_system& sys, const std::string& db) {
  interlock::application_builder b{sys};
  b.aggregate<Account>().aggregate<Points>().processor<Loyalty>().sqlite(db, interlock::sync_mode::normal);
  return b.build();
}

std::int64_t points(interlock::application& app, const std::string& id) {
  auto p = app.load_as_of<Points>(id);
  return p ? p->state.total : -1;
}

}  // namespace

TEST_CASE("processor: each event's commands take effect once, across restarts and a reset", "[process][processor]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  {
    actor_env env;
    auto app = start_loyalty(env.sys, db);
    REQUIRE(app);
    REQUIRE(app->dispatch("bob", Open{0}));
    REQUIRE(app->dispatch("bob", Credit{50}, in_conversation("payday")));
    REQUIRE(app->dispatch("bob", Credit{5}));  // 0 points: refused, logged, not retried
    REQUIRE(app->dispatch("bob", Credit{20}));
    CHECK(eventually([&] { return points(*app, "points-bob") == 7; }));
  }
  CHECK(raw_db{db}.rows("SELECT correlation_id, causation_id FROM events_view WHERE event_type = 'Awarded' "
                        "ORDER BY global_position LIMIT 1") ==
        std::vector<std::string>{"payday|event:2"});
  actor_env env;
  auto app = start_loyalty(env.sys, db);  // resumes from its checkpoint: nothing again
  REQUIRE(app);
  REQUIRE(app->dispatch("bob", Credit{30}));
  CHECK(eventually([&] { return points(*app, "points-bob") == 10; }));
  REQUIRE_FALSE(app->pause<Loyalty>());  // decided again from 0: the same ids, answered by the ledger
  REQUIRE_FALSE(app->reset<Loyalty>(0));
  REQUIRE_FALSE(app->resume<Loyalty>());
  const auto end = std::stoull(raw_db{db}.rows("SELECT max(global_position) FROM events")[0]);
  CHECK(eventually([&] {
    auto s = app->status();
    return s && std::any_of(s->begin(), s->end(), [&](auto& p) { return p.name == "Loyalty" && p.checkpoint == end; }) &&
           count(interlock::read_store_path_for(db), "SELECT * FROM interlock_outbox") == 0;
  }));
  CHECK(points(*app, "points-bob") == 10);
  CHECK(count(db, "SELECT 1 FROM events_view WHERE event_type = 'Awarded'") == 3);
}

// -- an event an upcaster splits -----------------------------------------------

namespace {

// A point for an opening, a tenth of a credit: two commands from one stored event once it is split.
struct Welcome : interlock::processor<Welcome> {
  using events = interlock::types<Opened, Credited>;
  using commands = interlock::types<Award>;
  void on(const Opened&, const interlock::event_envelope& env) { dispatch("points-" + env.aggregate_id, Award{1}); }
  void on(const Credited& e, const interlock::event_envelope& env) {
    dispatch("points-" + env.aggregate_id, Award{e.amount / 10});
  }
};

}  // namespace

TEST_CASE("processor: each part of a split event is a step of its own, its commands under ids of their own",
          "[process][processor]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  {  // an event of an older version of the code: an opening with a first credit
    auto j = interlock::sqlite_journal_factory({db})();
    REQUIRE(j);
    auto r = (*j)->append({interlock::append_request{
        "Account", "bob", 0, {{"OpenedWithCredit", 1, R"({"credit": 50})"}}, "old-1", "", ""}});
    REQUIRE(r[0]);
  }
  actor_env env;
  interlock::application_builder b{env.sys};
  b.aggregate<Account>().aggregate<Points>().processor<Welcome>().sqlite(db, interlock::sync_mode::normal);
  b.upcasters().split("OpenedWithCredit", 1, {{"Opened", 1}, {"Credited", 1}}, [](nlohmann::json p) {
    return std::vector<interlock::upcast_event>{{"Opened", 1, {{"balance", 0}, {"refuses_credits", false}}},
                                                {"Credited", 1, {{"amount", p.at("credit")}}}};
  });
  auto app = b.build();
  REQUIRE(app);
  CHECK(eventually([&] { return points(*app, "points-bob") == 6; }));  // 1 + 50 / 10: neither lost
  app->stop();
  CHECK(raw_db{db}.rows("SELECT command_id FROM commands ORDER BY command_id") ==
        std::vector<std::string>{"Welcome:1.1:0", "Welcome:1:0"});
}
