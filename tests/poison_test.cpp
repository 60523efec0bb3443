// Poison events: a handler that keeps failing on an event is retried with a
// backoff, then the projection stops naming the event, or parks it and goes
// on (its type's on_poison); parked events are listed and replayed.
#include <catch2/catch.hpp>

#include <atomic>

#include <interlock/persistence/read_db.hpp>

#include "bank_domain.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testbank;
using namespace testing_support;
using Catch::Matchers::Contains;
using interlock::errc;

namespace {

std::atomic<int> boom_attempts{0};   // on() calls for events tagged "boom"
std::atomic<int> flaky_failures{0};  // failures left for events tagged "flaky"
std::atomic<bool> boom_fixed{false};  // the handler's bug is fixed: "boom" applies

struct Sum : interlock::query<std::int64_t> {};

// Throws on "boom" (until fixed) and on "flaky" while failures are left.
void check_tag(const std::string& tag) {
  if (tag == "boom" && (++boom_attempts, !boom_fixed)) throw std::runtime_error("boom went the handler");
  if (tag == "flaky" && flaky_failures.fetch_sub(1) > 0) throw std::runtime_error("flaky handler");
}

template <interlock::poison_policy Policy>
struct MemorySum {
  static constexpr std::string_view type_name = "MemorySum";
  static constexpr interlock::poison_policy on_poison = Policy;
  static constexpr std::uint32_t poison_retries = 2;
  static constexpr std::chrono::milliseconds poison_backoff{5};
  using events = interlock::types<Deposited>;
  using queries = interlock::types<Sum>;
  std::int64_t sum = 0;
  void on(const Deposited& e) {
    check_tag(e.tag);
    sum += e.amount;
  }
  std::int64_t handle(const Sum&) const { return sum; }
};

struct DurableSum {
  static constexpr interlock::poison_policy on_poison = interlock::poison_policy::park;
  static constexpr std::uint32_t poison_retries = 1;
  static constexpr std::chrono::milliseconds poison_backoff{5};
  using events = interlock::types<Deposited>;
  using queries = interlock::types<Sum>;
  void create(interlock::read_db& db) { db.exec("CREATE TABLE IF NOT EXISTS sums (n INTEGER NOT NULL)"); }
  void on(const Deposited& e, interlock::read_db& db) {
    check_tag(e.tag);
    db.exec("INSERT INTO sums VALUES (?)", e.amount);
  }
  std::int64_t handle(const Sum&, interlock::read_db& db) const {
    return *db.value<std::int64_t>("SELECT coalesce(sum(n), 0) FROM sums");
  }
};

template <class P>
caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db) {
  interlock::application_builder b{sys};
  b.sqlite(db).aggregate<Account>().projection<P>();
  return b.build();
}

// Opens "a" and deposits 1, `tag` 100, 10; the position of the last.
std::uint64_t deposits_around(interlock::application& app, const std::string& tag) {
  REQUIRE(app.dispatch("a", Open{"Ann"}));
  REQUIRE(app.dispatch("a", Deposit{{}, 1, "t"}));
  REQUIRE(app.dispatch("a", Deposit{{}, 100, tag}));
  auto last = app.dispatch("a", Deposit{{}, 10, "t"});
  REQUIRE(last);
  return last->position;
}

void reset_counters() {
  boom_attempts = 0;
  flaky_failures = 0;
  boom_fixed = false;
}

}  // namespace

TEST_CASE("poison: a handler that fails for a while is retried and the event applied", "[poison]") {
  reset_counters();
  flaky_failures = 2;  // fails twice, then works: within 1 + poison_retries attempts
  temp_dir dir;
  actor_env env;
  auto app = start<MemorySum<interlock::poison_policy::stop>>(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  auto last = deposits_around(*app, "flaky");
  CHECK(app->query(Sum{}, {.after = last}).value() == 111);
  CHECK(flaky_failures <= 0);
}

TEST_CASE("poison: after its retries the projection stops, naming the event and the attempts", "[poison]") {
  reset_counters();
  temp_dir dir;
  actor_env env;
  auto app = start<MemorySum<interlock::poison_policy::stop>>(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  auto last = deposits_around(*app, "boom");
  auto sum = app->query(Sum{}, {.after = last});
  REQUIRE_FALSE(sum);
  CHECK(interlock::is(sum.error(), errc::corrupt_event));
  CHECK_THAT(interlock::message_of(sum.error()), Contains("Account/a") && Contains("version 3") &&
                                                     Contains("position 3") && Contains("Deposited") &&
                                                     Contains("boom went the handler") && Contains("(position 3, 3 attempts)"));
  CHECK(boom_attempts == 3);
}

TEST_CASE("poison: parked, the event is passed over, listed, and replayed once the handler is fixed", "[poison]") {
  reset_counters();
  temp_dir dir;
  actor_env env;
  auto app = start<MemorySum<interlock::poison_policy::park>>(env.sys, dir.file("bank.db"));
  REQUIRE(app);
  auto last = deposits_around(*app, "boom");
  CHECK(app->query(Sum{}, {.after = last}).value() == 11);  // 1 and 10: the 100 is parked
  auto parked = app->parked_events("MemorySum");
  REQUIRE(parked);
  REQUIRE(parked->size() == 1);
  const auto& p = parked->front();
  CHECK(p.position == 3);
  CHECK(p.stream == "Account/a");
  CHECK(p.version == 3);
  CHECK(p.event_type == "Deposited");
  CHECK(p.attempts == 3);
  CHECK_THAT(p.error, Contains("boom went the handler"));
  CHECK(p.parked_at_us > 0);
  auto all = app->status();
  REQUIRE(all);
  CHECK(all->front().parked == 1);
  CHECK(all->front().state == interlock::projection_status::phase::live);

  auto again = app->replay_parked("MemorySum", 3);  // still failing: stays parked
  REQUIRE(again);
  CHECK_THAT(interlock::message_of(again), Contains("boom went the handler"));
  CHECK(app->parked_events("MemorySum")->size() == 1);
  auto wrong = app->replay_parked("MemorySum", 2);
  REQUIRE(wrong);
  CHECK(interlock::is(wrong, errc::invalid_argument));
  CHECK_THAT(interlock::message_of(wrong), Contains("no parked event at position 2"));

  boom_fixed = true;
  REQUIRE_FALSE(app->replay_parked("MemorySum", 3));
  CHECK(app->query(Sum{}).value() == 111);
  CHECK(app->parked_events("MemorySum")->empty());
  CHECK(app->status()->front().parked == 0);
}

TEST_CASE("poison: a durable read model parks the event and passes it, for good, replay applies it",
          "[poison]") {
  reset_counters();
  temp_dir dir;
  const auto db = dir.file("bank.db");
  std::uint64_t last = 0;
  {
    actor_env env;
    auto app = start<DurableSum>(env.sys, db);
    REQUIRE(app);
    last = deposits_around(*app, "boom");
    CHECK(app->query(Sum{}, {.after = last}).value() == 11);
    CHECK(app->parked_events<DurableSum>()->size() == 1);
  }
  CHECK(boom_attempts == 2);  // 1 + poison_retries
  CHECK(raw_db{dir.file("bank.read.db")}.rows("SELECT projection, position, attempts FROM parked_events") ==
        std::vector<std::string>{"DurableSum|3|2"});
  // After a restart it is not met again: the tables' checkpoint is past it.
  actor_env env;
  auto app = start<DurableSum>(env.sys, db);
  REQUIRE(app);
  CHECK(app->query(Sum{}, {.after = last}).value() == 11);
  CHECK(boom_attempts == 2);
  CHECK(app->status()->front().parked == 1);
  boom_fixed = true;
  REQUIRE_FALSE(app->replay_parked<DurableSum>(3));
  CHECK(app->query(Sum{}).value() == 111);
  CHECK(app->parked_events<DurableSum>()->empty());
}
