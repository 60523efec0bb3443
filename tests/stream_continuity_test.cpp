// A stream whose versions break (a gap, a version twice) is damage: recovery,
// time travel and a projection's catch-up each stop with corrupt_event naming
// stream, version and position, and the bad event is never applied.
#include <catch2/catch.hpp>

#include <mutex>

#include <interlock/actors/stream_continuity.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

#include "forwarding_journal.hpp"
#include "ledger_domain.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using interlock::errc;
using interlock::stored_event;
using testing_support::actor_env;
using testing_support::temp_dir;
using testledger::Add;
using testledger::Added;
using testledger::Ledger;

namespace sc {

// The positions a Trail projection applied, across its instances (it runs on
// the reader's threads while catching up).
struct trail_log {
  std::mutex mutex;
  std::vector<std::uint64_t> positions;
  void add(std::uint64_t p) {
    std::lock_guard lock{mutex};
    positions.push_back(p);
  }
  std::vector<std::uint64_t> take() {
    std::lock_guard lock{mutex};
    return std::exchange(positions, {});
  }
};
inline trail_log applied;

struct GetCount {
  using result_type = std::size_t;
};

struct Trail {
  using events = interlock::types<Added>;
  using queries = interlock::types<GetCount>;
  std::size_t count = 0;
  void on(const Added&, const interlock::event_envelope& env) {
    applied.add(env.position);
    ++count;
  }
  std::size_t handle(const GetCount&) const { return count; }
};

}  // namespace sc

namespace {

interlock::event_view event(std::uint64_t position, std::string_view id, std::uint64_t version) {
  interlock::event_view e;
  e.position = position;
  e.aggregate_type = "Ledger";
  e.aggregate_id = id;
  e.version = version;
  e.event_type = "Added";
  return e;
}

std::string refusal(interlock::detail::stream_continuity& streams, const interlock::event_view& e) {
  if (streams.check(e)) return "accepted";
  auto err = streams.error(e);
  CHECK(interlock::is(err, errc::corrupt_event));
  return interlock::message_of(err);
}

// What the journal stores, with the versions `tamper` changes as reads hand
// them out: a damaged file, as far as the readers can tell.
struct tampering_journal : testing_support::forwarding_journal {
  std::function<void(stored_event&)> tamper;
  tampering_journal(std::unique_ptr<interlock::journal> j, std::function<void(stored_event&)> t)
      : forwarding_journal(std::move(j)), tamper(std::move(t)) {}

  caf::expected<std::vector<stored_event>> read_stream(const std::string& type, const std::string& id,
                                                       std::uint64_t from, std::size_t n) override {
    return tampered(inner->read_stream(type, id, from, n));
  }
  caf::expected<std::vector<stored_event>> read_all(std::uint64_t from, std::size_t n) override {
    return tampered(inner->read_all(from, n));
  }
  caf::expected<std::vector<stored_event>> tampered(caf::expected<std::vector<stored_event>> events) {
    if (events)
      for (auto& e : *events) tamper(e);
    return events;
  }
};

// Ledger/a: versions 1-5 at positions 1-5; Ledger/b: 1-5 at 6-10; Ledger/c: 1-2 at 11-12.
void write_ledgers(const std::string& db) {
  actor_env env;
  auto app = interlock::application_builder{env.sys}.aggregate<Ledger>().sqlite(db).build();
  REQUIRE(app);
  REQUIRE(app->dispatch("a", Add{1, 5})->position == 5);
  REQUIRE(app->dispatch("b", Add{1, 5})->position == 10);
  REQUIRE(app->dispatch("c", Add{1, 2})->position == 12);
}

caf::expected<interlock::application> start_tampered(caf::actor_system& sys, const std::string& db,
                                                     std::size_t read_batch,
                                                     std::function<void(stored_event&)> tamper) {
  interlock::runtime_settings s;
  s.read_batch = read_batch;
  return interlock::application_builder{sys}
      .aggregate<Ledger>()
      .projection<sc::Trail>()
      .settings(s)
      .journal([db, tamper]() -> caf::expected<std::unique_ptr<interlock::journal>> {
        auto j = interlock::open_sqlite_journal({db});
        if (!j) return std::move(j.error());
        return std::unique_ptr<interlock::journal>{std::make_unique<tampering_journal>(std::move(*j), tamper)};
      })
      .build();
}

std::vector<std::uint64_t> iota(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (auto p = first; p <= last; ++p) out.push_back(p);
  return out;
}

void check_corrupt(const caf::error& err, const std::string& message) {
  INFO(interlock::describe(err));
  CHECK(interlock::is(err, errc::corrupt_event));
  CHECK(interlock::message_of(err) == message);
}

// The projection stopped with `why`, having applied positions 1 to
// `applied_up_to` only, and stream `id`'s recovery and time travel to its end
// stop with `why` too.
void check_stopped(interlock::application& app, const std::string& id, const std::string& why,
                   std::uint64_t applied_up_to) {
  auto count = app.query(sc::GetCount{});
  REQUIRE_FALSE(count);
  check_corrupt(count.error(), "projection Trail stopped: " + why);
  CHECK(sc::applied.take() == iota(1, applied_up_to));  // never the bad event
  auto recovered = app.dispatch(id, Add{1});
  REQUIRE_FALSE(recovered);
  check_corrupt(recovered.error(), why);
  auto latest = app.load_as_of<Ledger>(id);
  REQUIRE_FALSE(latest);
  check_corrupt(latest.error(), why);
}

}  // namespace

TEST_CASE("stream continuity: from position 1 every stream starts at version 1 and goes on by one",
          "[continuity]") {
  interlock::detail::stream_continuity streams;
  CHECK(refusal(streams, event(1, "a", 1)) == "accepted");
  CHECK(refusal(streams, event(2, "b", 1)) == "accepted");
  CHECK(refusal(streams, event(3, "a", 2)) == "accepted");
  CHECK(refusal(streams, event(4, "a", 3)) == "accepted");
  CHECK(refusal(streams, event(5, "b", 3)) ==
        "stream Ledger/b version 3 type Added at position 5: expected version 2 (version 2 is missing)");

  interlock::detail::stream_continuity late_start;
  CHECK(refusal(late_start, event(1, "a", 1)) == "accepted");
  CHECK(refusal(late_start, event(2, "b", 3)) ==
        "stream Ledger/b version 3 type Added at position 2: expected version 1 (versions 1 to 2 are missing)");

  interlock::detail::stream_continuity twice;
  CHECK(refusal(twice, event(1, "a", 1)) == "accepted");
  CHECK(refusal(twice, event(2, "b", 1)) == "accepted");
  CHECK(refusal(twice, event(3, "a", 2)) == "accepted");
  CHECK(refusal(twice, event(4, "b", 1)) ==
        "stream Ledger/b version 1 type Added at position 4: expected version 2 (version 1 appears twice)");
}

TEST_CASE("stream continuity: mid-journal a stream is checked from its second event on", "[continuity]") {
  interlock::detail::stream_continuity streams;
  CHECK(refusal(streams, event(10, "a", 7)) == "accepted");
  CHECK(refusal(streams, event(11, "b", 3)) == "accepted");
  CHECK(refusal(streams, event(12, "a", 8)) == "accepted");
  CHECK(refusal(streams, event(13, "a", 8)) ==
        "stream Ledger/a version 8 type Added at position 13: expected version 9 (version 8 appears twice)");
}

TEST_CASE("stream continuity: memory is bounded by the number of streams tracked", "[continuity]") {
  interlock::detail::stream_continuity streams{4};
  std::uint64_t position = 1;
  for (int i = 0; i < 100; ++i) {
    CHECK(refusal(streams, event(position++, "s" + std::to_string(i), 1)) == "accepted");
    CHECK(streams.tracked() <= 4);
  }
  // A stream forgotten may come back at any version: it may have been seen before.
  CHECK(refusal(streams, event(position++, "s0", 2)) == "accepted");
  CHECK(refusal(streams, event(position++, "new", 5)) == "accepted");
  // Runs of one stream are still checked.
  CHECK(refusal(streams, event(position++, "z", 1)) == "accepted");
  CHECK(refusal(streams, event(position, "z", 3)) ==
        "stream Ledger/z version 3 type Added at position 104: expected version 2 (version 2 is missing)");
}

TEST_CASE("stream continuity: a stream that recurs stays tracked among many new ones", "[continuity]") {
  interlock::detail::stream_continuity streams{8};  // generations of 4: "hot" recurs within 2 others
  std::uint64_t position = 1;
  for (std::uint64_t v = 1; v <= 50; ++v) {
    CHECK(refusal(streams, event(position++, "hot", v)) == "accepted");
    CHECK(refusal(streams, event(position++, "once" + std::to_string(v), 1)) == "accepted");
    CHECK(refusal(streams, event(position++, "twice" + std::to_string(v), 1)) == "accepted");
  }
  CHECK(refusal(streams, event(position, "hot", 52)) ==
        "stream Ledger/hot version 52 type Added at position 151: expected version 51 (version 51 is missing)");
  CHECK(streams.tracked() <= 8);
}

TEST_CASE("stream continuity: a version gap stops recovery, time travel and catch-up", "[continuity]") {
  const std::size_t read_batch = GENERATE(4096, 2);  // 2: the later chunks are pipelined
  INFO("read_batch " << read_batch);
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  write_ledgers(db);
  sc::applied.take();

  actor_env env;  // Ledger/a reads 1, 2, 4, 5, 6 at positions 1-5
  auto app = start_tampered(env.sys, db, read_batch, [](stored_event& e) {
    if (e.aggregate_id == "a" && e.version >= 3) ++e.version;
  });
  REQUIRE(app);
  const std::string why =
      "stream Ledger/a version 4 type Added at position 3: expected version 3 (version 3 is missing)";

  check_stopped(*app, "a", why, 2);  // never position 3
  CHECK(app->dispatch("b", Add{1}));  // other streams are fine
  auto at3 = app->load_as_of<Ledger>("a", interlock::as_of::version(3));  // version 3 is the one missing
  REQUIRE_FALSE(at3);
  check_corrupt(at3.error(), why);
  auto at2 = app->load_as_of<Ledger>("a", interlock::as_of::version(2));  // all there up to 2
  REQUIRE(at2);
  CHECK(at2->state.text() == "v2 total 2 [1,1,]");
}

TEST_CASE("stream continuity: a version seen twice stops recovery, time travel and catch-up", "[continuity]") {
  const std::size_t read_batch = GENERATE(4096, 2);
  INFO("read_batch " << read_batch);
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  write_ledgers(db);
  sc::applied.take();

  actor_env env;  // Ledger/b reads 1, 2, 2, 4, 5 at positions 6-10
  auto app = start_tampered(env.sys, db, read_batch, [](stored_event& e) {
    if (e.aggregate_id == "b" && e.version == 3) e.version = 2;
  });
  REQUIRE(app);
  const std::string why =
      "stream Ledger/b version 2 type Added at position 8: expected version 3 (version 2 appears twice)";

  check_stopped(*app, "b", why, 7);  // never position 8
  auto at2 = app->load_as_of<Ledger>("b", interlock::as_of::version(2));  // the second 2 is within the bound
  REQUIRE_FALSE(at2);
  check_corrupt(at2.error(), why);
  auto at1 = app->load_as_of<Ledger>("b", interlock::as_of::version(1));
  REQUIRE(at1);
  CHECK(at1->state.text() == "v1 total 1 [1,]");
}

TEST_CASE("stream continuity: an undamaged journal catches up whole, also from mid-journal", "[continuity]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  write_ledgers(db);
  sc::applied.take();
  actor_env env;
  auto app = start_tampered(env.sys, db, 3, [](stored_event&) {});
  REQUIRE(app);
  auto count_after = [&](std::uint64_t position) {
    auto n = app->query(sc::GetCount{}, {.after = position});
    REQUIRE(n);
    return *n;
  };
  CHECK(count_after(12) == 12);
  {  // another application on the file: this one reads its events by catching up from position 13
    actor_env other_env;
    auto other = interlock::application_builder{other_env.sys}.aggregate<Ledger>().sqlite(db).build();
    REQUIRE(other);
    REQUIRE(other->dispatch("c", Add{1, 3})->position == 15);
  }
  CHECK(count_after(15) == 15);
  CHECK(sc::applied.take() == iota(1, 15));
  CHECK_FALSE(app->rebuild<sc::Trail>());
  CHECK(count_after(15) == 15);
  CHECK(sc::applied.take() == iota(1, 15));
}

// -- the same damage stored in a real file (as a person with the sqlite3 shell
// could leave it), not simulated by a journal wrapper --------------------------

namespace {

caf::expected<interlock::application> start_on(caf::actor_system& sys, const std::string& db) {
  return interlock::application_builder{sys}.aggregate<Ledger>().projection<sc::Trail>().sqlite(db).build();
}

}  // namespace

TEST_CASE("stream continuity: a gap stored in the file stops recovery, time travel and catch-up",
          "[continuity][sqlite]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  write_ledgers(db);
  testing_support::raw_db{db}.exec(  // Ledger/a: 1, 2, 4, 5, 6 at positions 1-5 (through negatives: no clash)
      "UPDATE events SET version = -version WHERE version >= 3 AND stream_key ="
      " (SELECT stream_key FROM streams WHERE aggregate_id = 'a');"
      "UPDATE events SET version = 1 - version WHERE version < 0");
  sc::applied.take();
  actor_env env;
  auto app = start_on(env.sys, db);
  REQUIRE(app);
  const std::string why =
      "stream Ledger/a version 4 type Added at position 3: expected version 3 (version 3 is missing)";
  check_stopped(*app, "a", why, 2);
  CHECK(app->dispatch("b", Add{1}));
}

TEST_CASE("stream continuity: a version stored twice in the file stops recovery, time travel and catch-up",
          "[continuity][sqlite]") {
  temp_dir dir;
  const auto db = dir.file("ledger.db");
  write_ledgers(db);
  {  // enough events for a second span of positions, then Ledger/b's version 2 again at the end
    actor_env env;
    auto app = interlock::application_builder{env.sys}.aggregate<Ledger>().sqlite(db).build();
    REQUIRE(app);
    REQUIRE(app->dispatch("c", Add{1, 4100})->position == 4112);
  }
  testing_support::raw_db{db}.exec(
      "INSERT INTO events SELECT 4113, stream_key, version, event_type, schema_version, payload, recorded_at,"
      " command_id, correlation_id, causation_id, type_key FROM events WHERE global_position = 7");
  sc::applied.take();
  actor_env env;
  auto app = start_on(env.sys, db);
  REQUIRE(app);
  auto count = app->query(sc::GetCount{});
  REQUIRE_FALSE(count);
  check_corrupt(count.error(), "projection Trail stopped: stream Ledger/b version 2 type Added at position 4113: "
                               "expected version 6 (version 2 appears twice)");
  CHECK(sc::applied.take() == iota(1, 4112));
  // The journal found it when it opened the file: the stream's reads fail with what it found.
  const std::string found = "stream 'Ledger/b' has version 2 twice, at positions 7 and 4113";
  auto recovered = app->dispatch("b", Add{1});
  REQUIRE_FALSE(recovered);
  CHECK(interlock::is(recovered.error(), errc::corrupt_event));
  CHECK_THAT(interlock::message_of(recovered.error()), Catch::Contains(found));
  auto latest = app->load_as_of<Ledger>("b");
  REQUIRE_FALSE(latest);
  CHECK_THAT(interlock::message_of(latest.error()), Catch::Contains(found));
  CHECK(app->dispatch("a", Add{1}));
}
