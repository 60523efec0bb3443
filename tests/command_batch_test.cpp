// Commands that queue at one aggregate run as a batch: back to back, each on
// the state the ones before it left, their events stored together, every
// reply after the store; the next batch goes out while the last is in flight
// (actors/aggregate/aggregate_actor.hpp). Replies are sent by the journal writer.
#include <catch2/catch.hpp>

#include "forwarding_journal.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

#include <chrono>
#include <future>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <interlock/persistence/memory_journal.hpp>
#include <interlock/runtime/interlock.hpp>
#include <interlock/runtime/nlohmann_json.hpp>

using interlock::errc;
using testing_support::actor_env;
using testing_support::raw_db;
using testing_support::temp_dir;

namespace {

struct Add {  // adds `n`, after sleeping `ms` in the handler
  using result_type = std::int64_t;  // the total after it
  std::int64_t n = 0;
  int ms = 0;
};
struct Take {  // refused if it would take the total below zero
  using result_type = std::int64_t;
  std::int64_t n = 0;
};
struct Poison {  // emits an event whose apply() throws
  using result_type = void;
};
struct Peek {  // emits nothing: the total it saw
  using result_type = std::int64_t;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Add, n, ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Take, n)
struct Added {
  std::int64_t n = 0;
};
struct Taken {
  std::int64_t n = 0;
};
struct Poisoned {
  int dose = 1;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Added, n)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Taken, n)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Poisoned, dose)

struct Tally : interlock::aggregate<Tally> {
  using commands = interlock::types<Add, Take, Poison, Peek>;
  using events = interlock::types<Added, Taken, Poisoned>;
  std::int64_t total = 0;

  std::int64_t handle(const Add& c) {
    std::this_thread::sleep_for(std::chrono::milliseconds(c.ms));
    emit(Added{c.n});
    return total + c.n;
  }
  std::int64_t handle(const Take& c) {
    if (c.n > total) throw interlock::rejected{"cannot take " + std::to_string(c.n) + " of " + std::to_string(total)};
    emit(Taken{c.n});
    return total - c.n;
  }
  void handle(const Poison&) { emit(Poisoned{}); }
  std::int64_t handle(const Peek&) const { return total; }
  void apply(const Added& e) { total += e.n; }
  void apply(const Taken& e) { total -= e.n; }
  void apply(const Poisoned&) { throw std::runtime_error("poisoned"); }
};

// Tally with snapshots every 7 versions: batches cross the threshold mid-way.
struct Counter : interlock::aggregate<Counter> {
  using commands = interlock::types<Add, Peek>;
  using events = interlock::types<Added>;
  static constexpr std::uint64_t snapshot_every = 7;
  std::int64_t total = 0;
  std::int64_t handle(const Add& c) {
    emit(Added{c.n});
    return total + c.n;
  }
  std::int64_t handle(const Peek&) const { return total; }
  void apply(const Added& e) { total += e.n; }
};
INTERLOCK_JSON(Counter, total)

struct tally_app {
  temp_dir dir;
  std::string db = dir.file("tally.db");
  actor_env env;
  caf::expected<interlock::application> app = interlock::application_builder{env.sys}.aggregate<Tally>().sqlite(db).build();
};

template <class F>
auto value_of(F& future) {
  auto r = future.get();
  INFO((r ? std::string{} : interlock::describe(r.error())));
  REQUIRE(r);
  return *r;
}

}  // namespace

TEST_CASE("batch: a burst to one aggregate is answered in order, in fewer transactions than commands", "[batch]") {
  tally_app t;
  REQUIRE(t.app);
  constexpr int n = 200;
  std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> replies;
  for (int i = 1; i <= n; ++i) replies.push_back(t.app->dispatch_async("t", Add{i, 0}));
  std::int64_t total = 0;
  for (int i = 1; i <= n; ++i) {
    auto r = value_of(replies[static_cast<std::size_t>(i - 1)]);
    total += i;
    CHECK(r.version == static_cast<std::uint64_t>(i));  // one sender: its order is kept
    CHECK(r.value == total);                             // each ran on the ones before it
    CHECK(r.events == 1);
  }
  raw_db db{t.db};
  CHECK(db.rows("SELECT count(*), max(version) FROM events") == std::vector<std::string>{"200|200"});
  // One recorded_at per transaction: the queued commands were stored together.
  const auto transactions = std::stoi(db.rows("SELECT count(DISTINCT recorded_at) FROM events")[0]);
  CHECK(transactions <= n / 2);
}

TEST_CASE("batch: a command is judged on the unstored events of the ones before it", "[batch]") {
  tally_app t;
  REQUIRE(t.app);
  // The slow first command keeps the append of the rest waiting for its own:
  // the rest queue up and run as one batch.
  auto slow = t.app->dispatch_async("t", Add{10, 100});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto take_all = t.app->dispatch_async("t", Take{10});
  auto take_more = t.app->dispatch_async("t", Take{1});  // refused: the take before it left 0
  auto peek = t.app->dispatch_async("t", Peek{});
  auto add = t.app->dispatch_async("t", Add{5, 0});
  CHECK(value_of(slow).value == 10);
  CHECK(value_of(take_all).value == 0);
  auto refused = take_more.get();
  REQUIRE_FALSE(refused);
  CHECK(interlock::describe(refused.error()) == "rejected: cannot take 1 of 0");
  auto peeked = value_of(peek);
  CHECK(peeked.value == 0);
  CHECK(peeked.version == 2);  // the version it ran on
  CHECK(peeked.events == 0);
  auto added = value_of(add);
  CHECK(added.value == 5);
  CHECK(added.version == 3);
  raw_db db{t.db};
  CHECK(db.rows("SELECT version, event_type, payload FROM events ORDER BY global_position") ==
        std::vector<std::string>{"1|Added|{\"n\":10}", "2|Taken|{\"n\":10}", "3|Added|{\"n\":5}"});
}

TEST_CASE("batch: an event that cannot be applied before it is stored fails only its command", "[batch]") {
  tally_app t;
  REQUIRE(t.app);
  auto slow = t.app->dispatch_async("t", Add{1, 100});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto poison = t.app->dispatch_async("t", Poison{});  // the next command needs its event applied first
  auto after = t.app->dispatch_async("t", Add{2, 0});
  CHECK(value_of(slow).value == 1);
  auto poisoned = poison.get();
  REQUIRE_FALSE(poisoned);
  CHECK(interlock::is(poisoned.error(), errc::corrupt_event));
  CHECK(interlock::message_of(poisoned.error()) == "the events were not stored: apply(Poisoned) threw: poisoned");
  auto r = value_of(after);
  CHECK(r.value == 3);  // on the state rebuilt from the journal: no poison in it
  CHECK(r.version == 2);
  raw_db db{t.db};
  CHECK(db.rows("SELECT group_concat(event_type) FROM events") == std::vector<std::string>{"Added,Added"});
}

TEST_CASE("batch: snapshots taken inside a batch hold the state at their version", "[batch]") {
  temp_dir dir;
  const auto db = dir.file("counter.db");
  {
    actor_env env;
    auto app = interlock::application_builder{env.sys}.aggregate<Counter>().sqlite(db).build();
    REQUIRE(app);
    std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> replies;
    for (int i = 1; i <= 100; ++i) replies.push_back(app->dispatch_async("c", Add{i, 0}));
    for (auto& r : replies) value_of(r);
  }
  {
    raw_db raw{db};
    // total after version v is 1 + 2 + ... + v; the two newest are kept.
    CHECK(raw.rows("SELECT version, state FROM snapshots ORDER BY version") ==
          std::vector<std::string>{"91|{\"total\":4186}", "98|{\"total\":4851}"});
  }
  actor_env env;  // a restart: recovery starts from the snapshot at 98
  auto app = interlock::application_builder{env.sys}.aggregate<Counter>().sqlite(db).build();
  REQUIRE(app);
  auto peek = app->dispatch("c", Peek{});
  REQUIRE(peek);
  CHECK(peek->value == 5050);
  CHECK(peek->version == 100);
}

TEST_CASE("batch: a command that comes while the batch before it is in flight joins the same commit", "[batch]") {
  temp_dir dir;
  const auto db = dir.file("tally.db");
  actor_env env;
  interlock::runtime_settings s;
  s.group_commit_wait = std::chrono::milliseconds(300);  // the first append waits this long for company
  auto app = interlock::application_builder{env.sys}.aggregate<Tally>().settings(s).sqlite(db).build();
  REQUIRE(app);
  std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> replies;
  for (int i = 1; i <= 3; ++i) {
    replies.push_back(app->dispatch_async("t", Add{i, 0}));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // each its own batch
  }
  CHECK(value_of(replies[0]).value == 1);
  CHECK(value_of(replies[1]).value == 3);  // ran on the first one's events before they were stored
  CHECK(value_of(replies[2]).value == 6);
  app->stop();
  raw_db raw{db};
  // One transaction: had each batch waited for the one before it, three.
  CHECK(raw.rows("SELECT count(DISTINCT recorded_at) FROM events") == std::vector<std::string>{"1"});
}

namespace {

// A memory journal whose appends take `delay`: a commit that is still in
// flight when the next commands come.
struct slow_journal final : testing_support::forwarding_journal {
  std::chrono::milliseconds delay;
  slow_journal(std::unique_ptr<interlock::journal> j, std::chrono::milliseconds d)
      : forwarding_journal(std::move(j)), delay(d) {}
  std::vector<caf::expected<interlock::append_result>> append(const std::vector<interlock::append_request>& b) override {
    std::this_thread::sleep_for(delay);
    return inner->append(b);
  }
};

}  // namespace

TEST_CASE("batch: a command that stores nothing is answered only after the commit in flight it ran on", "[batch]") {
  actor_env env;
  auto memory = interlock::memory_journal_factory();
  auto app = interlock::application_builder{env.sys}
                 .aggregate<Tally>()
                 .journal([memory]() -> caf::expected<std::unique_ptr<interlock::journal>> {
                   auto j = memory();
                   if (!j) return std::move(j.error());
                   return std::unique_ptr<interlock::journal>{
                       new slow_journal(std::move(*j), std::chrono::milliseconds(400))};
                 })
                 .build();
  REQUIRE(app);
  auto first = app->dispatch("t", Add{1, 0});  // the actor is up: what follows is about the commit in flight
  REQUIRE(first);
  CHECK(first->value == 1);
  auto add = app->dispatch_async("t", Add{10, 0});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the add's commit is in flight now
  auto peek = app->dispatch_async("t", Peek{});
  auto refused = app->dispatch_async("t", Take{100});
  // The peek saw the add's events before they were stored: its answer waits
  // for them, and the add's reply goes out first.
  auto seen = value_of(peek);
  CHECK(seen.value == 11);
  CHECK(add.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK(value_of(add).value == 11);
  auto r = refused.get();
  REQUIRE_FALSE(r);
  CHECK_THAT(interlock::message_of(r.error()), Catch::Contains("cannot take 100 of 11"));
}
