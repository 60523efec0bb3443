// Reading the log filtered by aggregate type and event type (scan_filtered):
// the same events, in the same order, as filtering the whole log by hand, on
// every journal; on SQLite across the folded mark (log_runs below it, the
// events themselves above it) and across its windows of positions.
#include <catch2/catch.hpp>

#include "journal_test_support.hpp"
#include "raw_db.hpp"

#include <string>
#include <vector>

using namespace interlock;
using namespace journal_testing;

namespace {

const std::vector<std::string> aggregate_types{"A", "B", "C"};
const std::vector<std::string> event_types{"X", "Y", "Z"};

// `rounds` batches over 30 new streams (10 of each aggregate type, ids
// `prefix`0..29), each request 1-3 events whose types cycle through X, Y, Z at
// different rates per type.
void fill(journal& j, std::size_t rounds, const std::string& prefix = "s") {
  std::vector<std::uint64_t> versions(30, 0);
  for (std::size_t r = 0; r < rounds; ++r) {
    std::vector<append_request> batch;
    for (std::size_t s = 0; s < versions.size(); ++s) {
      const std::size_t n = 1 + (r + s) % 3;
      auto req = request(aggregate_types[s % 3], prefix + std::to_string(s), versions[s], n);
      for (std::size_t i = 0; i < n; ++i) req.events[i].type = event_types[(r * (s % 3 + 1) + i) % 3];
      versions[s] += n;
      batch.push_back(std::move(req));
    }
    for (auto& res : j.append(batch)) REQUIRE(res);
  }
}

std::vector<stored_event> by_hand(const std::vector<stored_event>& all, const log_filter& f, std::uint64_t from) {
  std::vector<stored_event> out;
  for (const auto& e : all)
    if (e.position >= from && f.matches(e.aggregate_type, e.event_type)) out.push_back(e);
  return out;
}

std::vector<stored_event> filtered(journal& j, const log_filter& f, std::uint64_t from, std::size_t max_count) {
  std::vector<stored_event> out;
  const auto n = value_of(j.scan_filtered(from, max_count, f, [&](const event_view& v) {
    out.push_back(to_stored(v));
    return true;
  }));
  CHECK(n == out.size());
  return out;
}

// Reads in chunks of `chunk`, each from the position after the last event read.
std::vector<stored_event> in_chunks(journal& j, const log_filter& f, std::size_t chunk) {
  std::vector<stored_event> out;
  for (std::uint64_t from = 1;;) {
    auto part = filtered(j, f, from, chunk);
    out.insert(out.end(), part.begin(), part.end());
    if (part.size() < chunk) return out;
    from = part.back().position + 1;
  }
}

void check_filters(journal& j) {
  const auto all = read_everything(j);
  REQUIRE_FALSE(all.empty());
  const std::vector<log_filter> filters{
      {{}, {"X"}}, {{"B"}, {}}, {{"A", "C"}, {"Y", "Z"}}, {{"C"}, {"X"}}, {{"Q"}, {}}, {{}, {"X", "Q"}}, {}};
  for (const auto& f : filters) {
    INFO("aggregate types " << f.aggregate_types.size() << ", event types " << f.event_types.size());
    check_same(filtered(j, f, 1, 1'000'000), by_hand(all, f, 1));
    const auto middle = all[all.size() / 2].position + 1;
    check_same(filtered(j, f, middle, 1'000'000), by_hand(all, f, middle));
    check_same(in_chunks(j, f, 997), by_hand(all, f, 1));
    const auto limited = filtered(j, f, 1, 5);
    auto expected = by_hand(all, f, 1);
    expected.resize(std::min<std::size_t>(expected.size(), 5));
    check_same(limited, expected);
  }
  std::size_t calls = 0;  // a visitor that stops is not called again
  CHECK(value_of(j.scan_filtered(1, 1'000'000, log_filter{{}, {"Y"}}, [&](const event_view&) { return ++calls < 3; })) ==
        3);
  CHECK(calls == 3);
}

}  // namespace

TEST_CASE("log filter: the memory journal visits what filtering the log by hand gives", "[journal][filter]") {
  memory_backend backend;
  auto j = open_journal(backend.factory);
  fill(*j, 50);
  check_filters(*j);
}

TEST_CASE("log filter: the SQLite journal gives the same through log_runs and the open spans", "[journal][sqlite][filter]") {
  temp_dir dir;
  const auto path = (dir.path / "journal.db").string();
  auto j = value_of(open_sqlite_journal({path, sync_mode::off}));
  fill(*j, 1500);  // ~90,000 events: 22 spans, more than one window of 65,536 positions
  REQUIRE(value_of(j->maintain()) == false);
  testing_support::raw_db db{path};
  const auto folded = std::stoull(db.rows("SELECT value FROM journal_meta WHERE key = 'folded_position'").at(0));
  CHECK(folded > 65'536);
  CHECK(folded < value_of(j->last_position()));
  CHECK(db.rows("SELECT sum(length(offsets) / 2) FROM log_runs") == std::vector<std::string>{std::to_string(folded)});
  check_filters(*j);
  // After a reopen every event is folded: all of them through the index.
  j.reset();
  j = value_of(open_sqlite_journal({path, sync_mode::off}));
  check_filters(*j);
}

TEST_CASE("log filter: the folded part is read through log_runs, one range per type, then its events by position",
          "[journal][sqlite][filter]") {
  sqlite_backend backend;
  { open_journal(backend.factory); }
  testing_support::raw_db db{backend.path};
  // The statement shapes of the journal's folded filtered read.
  const auto runs = db.rows(
      "EXPLAIN QUERY PLAN SELECT first_position, offsets FROM log_runs WHERE type_key IN"
      " (SELECT value FROM json_each('[1,2]')) AND first_position BETWEEN 1 AND 65536");
  std::string all;
  for (const auto& line : runs) all += line + "\n";
  INFO(all);
  CHECK_THAT(all, Contains("SEARCH log_runs USING PRIMARY KEY (type_key=? AND first_position>? AND first_position<?)"));
  const auto events = db.rows(
      "EXPLAIN QUERY PLAN SELECT e.payload FROM events e JOIN streams s ON s.stream_key = e.stream_key"
      " WHERE e.global_position IN (1, 5, 9, NULL) ORDER BY e.global_position");
  all.clear();
  for (const auto& line : events) all += line + "\n";
  INFO(all);
  CHECK_THAT(all, Contains("SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"));
  CHECK_THAT(all, !Contains("TEMP B-TREE"));  // no sort of what the list holds
}

TEST_CASE("log filter: a pair of types first seen in a batch that was redone or failed keeps a right key",
          "[journal][sqlite][filter]") {
  temp_dir dir;
  const auto path = (dir.path / "journal.db").string();
  {
    auto j = value_of(open_sqlite_journal({path}));
    testing_support::raw_db{path}.exec(
        "CREATE TRIGGER no_poison BEFORE INSERT ON events WHEN NEW.event_type = 'Poison'"
        " BEGIN SELECT RAISE(ABORT, 'poison refused'); END");
    auto fresh = request("N", "n", 0, 1);
    fresh.events[0].type = "Fresh";  // a new pair, registered in the fast path, which is rolled back
    auto poisoned = request("P", "p", 0, 1);
    poisoned.events[0].type = "Poison";
    auto results = j->append({fresh, poisoned});
    REQUIRE(results[0]);
    REQUIRE_FALSE(results[1]);
    auto later = request("N", "n", 1, 1);
    later.events[0].type = "Later";
    append_ok(*j, later);
  }
  auto j = value_of(open_sqlite_journal({path}));  // folded at open: through log_runs
  CHECK(positions_of(filtered(*j, log_filter{{}, {"Fresh"}}, 1, 100)) == std::vector<std::uint64_t>{1});
  CHECK(positions_of(filtered(*j, log_filter{{"N"}, {}}, 1, 100)) == std::vector<std::uint64_t>{1, 2});
  CHECK(filtered(*j, log_filter{{}, {"Poison"}}, 1, 100).empty());
  testing_support::raw_db db{path};
  CHECK(db.rows("SELECT count(*) FROM events e JOIN streams s USING (stream_key) JOIN type_keys k USING (type_key)"
                " WHERE k.aggregate_type = s.aggregate_type AND k.event_type = e.event_type") ==
        std::vector<std::string>{"2"});
}

namespace {

sqlite_options with_copies(const std::string& path, bool copies = true) {
  sqlite_options o{path, sync_mode::off};
  o.category_copies = copies;
  return o;
}

std::string one(testing_support::raw_db& db, const std::string& sql) { return db.rows(sql).at(0); }

}  // namespace

TEST_CASE("log filter: with category copies the folded part is read from them, the same events",
          "[journal][sqlite][filter][copies]") {
  temp_dir dir;
  const auto path = (dir.path / "journal.db").string();
  auto j = value_of(open_sqlite_journal(with_copies(path)));
  fill(*j, 1500);
  REQUIRE(value_of(j->maintain()) == false);
  testing_support::raw_db db{path};
  CHECK(one(db, "SELECT value FROM journal_meta WHERE key = 'category_copies'") == "1");
  CHECK(one(db, "SELECT count(*) FROM log_runs") != "0");
  CHECK(one(db, "SELECT count(*) FROM log_runs r JOIN log_copies c USING (type_key, first_position)") ==
        one(db, "SELECT count(*) FROM log_runs"));
  check_filters(*j);
  // The reads come from the copies: a payload changed in the events table
  // (which no journal does) is not what a filtered read of a folded event gives.
  const auto before = filtered(*j, log_filter{{"B"}, {"Y"}}, 1, 1).at(0);
  db.exec("UPDATE events SET payload = '{\"changed\":1}' WHERE global_position = " + std::to_string(before.position));
  CHECK(filtered(*j, log_filter{{"B"}, {"Y"}}, 1, 1).at(0).payload == before.payload);
  db.exec("UPDATE events SET payload = '" + before.payload + "' WHERE global_position = " +
          std::to_string(before.position));
  j.reset();
  j = value_of(open_sqlite_journal(with_copies(path)));  // every event folded, with copies
  CHECK(one(db, "SELECT count(*) FROM log_runs r LEFT JOIN log_copies c USING (type_key, first_position)"
                " WHERE c.events IS NULL") == "0");
  check_filters(*j);
}

TEST_CASE("log filter: a row whose copies are missing or do not match its positions is read from the events",
          "[journal][sqlite][filter][copies]") {
  temp_dir dir;
  const auto path = (dir.path / "journal.db").string();
  { fill(*value_of(open_sqlite_journal(with_copies(path))), 1500); }  // folded at the next open
  {
    auto j = value_of(open_sqlite_journal(with_copies(path)));
    testing_support::raw_db db{path};
    // What a build without copies, or a damaged file, could leave.
    db.exec("DELETE FROM log_copies WHERE rowid % 5 = 1");
    db.exec("UPDATE log_copies SET events = substr(events, 1, length(events) - 3) WHERE rowid % 5 = 2");
    db.exec("UPDATE log_copies SET events = substr(events, 1, 40) WHERE rowid % 5 = 3");
    db.exec("UPDATE log_copies SET events = x'ffff' || events WHERE rowid % 5 = 4");
    check_filters(*j);
  }
}

TEST_CASE("log filter: turning category copies on re-indexes a file with events, which then keeps them on",
          "[journal][sqlite][filter][copies]") {
  temp_dir dir;
  const auto path = (dir.path / "journal.db").string();
  { fill(*value_of(open_sqlite_journal(with_copies(path, false))), 300); }
  testing_support::raw_db db{path};
  {
    auto j = value_of(open_sqlite_journal(with_copies(path, false)));  // folds at open, without copies
    CHECK(one(db, "SELECT count(*) FROM log_runs") != "0");
    CHECK(one(db, "SELECT count(*) FROM log_copies") == "0");
  }
  {
    auto j = value_of(open_sqlite_journal(with_copies(path)));
    CHECK(one(db, "SELECT count(*) FROM log_copies") == one(db, "SELECT count(*) FROM log_runs"));
    check_filters(*j);
  }
  // A connection that does not ask for copies keeps them: the file says so.
  auto j = value_of(open_sqlite_journal(with_copies(path, false)));
  const auto rows_before = one(db, "SELECT count(*) FROM log_runs");
  fill(*j, 300, "later");
  j.reset();
  j = value_of(open_sqlite_journal(with_copies(path, false)));
  CHECK(one(db, "SELECT count(*) FROM log_runs") != rows_before);
  CHECK(one(db, "SELECT count(*) FROM log_copies") == one(db, "SELECT count(*) FROM log_runs"));
  check_filters(*j);
}

TEST_CASE("log filter: a file made before log_copies existed gains the table at open", "[journal][sqlite][copies]") {
  temp_dir dir;
  const auto path = (dir.path / "journal.db").string();
  { fill(*value_of(open_sqlite_journal({path})), 10); }
  testing_support::raw_db{path}.exec("DROP TABLE log_copies");
  auto j = value_of(open_sqlite_journal(with_copies(path)));
  testing_support::raw_db db{path};
  CHECK(one(db, "SELECT count(*) FROM log_copies") == one(db, "SELECT count(*) FROM log_runs"));
  check_filters(*j);
}
