// A correlation id equal to the command id is stored as NULL (and an empty one
// beside a command id as ''); reads and events_view give back exactly what was
// appended, also from a file of an older format once it is upgraded.
#include <catch2/catch.hpp>

#include "journal_test_support.hpp"
#include "old_format_files.hpp"
#include "raw_db.hpp"

#include <interlock/persistence/sqlite_upgrade.hpp>

#include <string>
#include <vector>

using namespace interlock;
using namespace journal_testing;
using testing_support::raw_db;

namespace {

// One request per way the ids can relate, streams "same", "other", "none",
// "bare": correlation = command id; a correlation of its own; a command id
// and no correlation; no ids at all.
std::vector<append_request> every_kind_of_correlation() {
  auto same = request("S", "same", 0, 2);
  same.correlation_id = same.command_id;
  auto other = request("S", "other", 0, 1);
  auto none = request("S", "none", 0, 1);
  none.correlation_id.clear();
  auto bare = request("S", "bare", 0, 1);
  bare.command_id.clear();
  bare.correlation_id.clear();
  bare.causation_id.clear();
  return {same, other, none, bare};
}

// The correlation column as stored, per event: quote() tells NULL from ''.
std::vector<std::string> stored_correlations(raw_db& db) {
  return db.rows("SELECT quote(correlation_id) FROM events ORDER BY global_position");
}

// Appends the requests and checks that every read gives back their ids.
void append_and_read_back(journal& j, const std::vector<append_request>& reqs) {
  auto results = j.append(reqs);
  std::vector<stored_event> expected;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    auto events = committed_events(reqs[i], value_of(std::move(results[i])));
    expected.insert(expected.end(), events.begin(), events.end());
  }
  check_same(read_everything(j), expected);
  for (const auto& req : reqs) {
    std::vector<stored_event> of_stream;
    for (const auto& e : expected)
      if (e.aggregate_id == req.aggregate_id) of_stream.push_back(e);
    check_same(value_of(j.read_stream("S", req.aggregate_id, 1, 10)), of_stream);
  }
}

}  // namespace

TEST_CASE("short correlation: new files are format 7 and store a correlation equal to the command id as NULL",
          "[journal][sqlite][format]") {
  sqlite_backend backend;
  auto j = open_journal(backend.factory);
  append_and_read_back(*j, every_kind_of_correlation());
  raw_db db{backend.path};
  CHECK(db.rows("SELECT value FROM journal_meta WHERE key = 'format_version'") == std::vector<std::string>{"7"});
  CHECK(stored_correlations(db) == std::vector<std::string>{"NULL", "NULL", "'corr-other'", "''", "NULL"});
  // The shell sees the ids as appended, no correlation as NULL.
  CHECK(db.rows("SELECT quote(command_id), quote(correlation_id) FROM events_view") ==
        std::vector<std::string>{"'cmd-same-0'|'cmd-same-0'", "'cmd-same-0'|'cmd-same-0'",
                                 "'cmd-other-0'|'corr-other'", "'cmd-none-0'|NULL", "NULL|NULL"});
}

TEST_CASE("short correlation: reopened, a file reads its ids back", "[journal][sqlite][format]") {
  sqlite_backend backend;
  const auto reqs = every_kind_of_correlation();
  std::vector<stored_event> before;
  {
    auto j = open_journal(backend.factory);
    append_and_read_back(*j, reqs);
    before = read_everything(*j);
  }
  auto j = open_journal(backend.factory);
  check_same(read_everything(*j), before);
  REQUIRE(before.size() == 5);
  CHECK(before[0].correlation_id == "cmd-same-0");
  CHECK(before[3].correlation_id.empty());
}

TEST_CASE("short correlation: a format-3 file, ids stored in full, upgrades and reads its ids back",
          "[journal][sqlite][format][upgrade]") {
  sqlite_backend backend;
  testing_support::create_old_journal(backend.path, 3);
  {
    raw_db db{backend.path};
    // As format 3 stored every_kind_of_correlation(): ids in full, none as NULL.
    db.exec("INSERT INTO streams VALUES (1, 'S', 'same', 2, 1, 2), (2, 'S', 'other', 1, 3, 3),"
            " (3, 'S', 'none', 1, 4, 4), (4, 'S', 'bare', 1, 5, 5);"
            "INSERT INTO events VALUES (1, 1, 1, 'Happened', 1, '{\"v\":1}', 10, 'cmd-same-0', 'cmd-same-0', 'c'),"
            " (2, 1, 2, 'Happened', 1, '{\"v\":2}', 10, 'cmd-same-0', 'cmd-same-0', 'c'),"
            " (3, 2, 1, 'Happened', 1, '{\"v\":1}', 10, 'cmd-other-0', 'corr-other', 'c'),"
            " (4, 3, 1, 'Happened', 1, '{\"v\":1}', 10, 'cmd-none-0', NULL, 'c'),"
            " (5, 4, 1, 'Happened', 1, '{\"v\":1}', 10, NULL, NULL, NULL);");
  }
  REQUIRE(value_of(upgrade_sqlite_journal(backend.path)).from_format == 3);
  auto j = open_journal(backend.factory);
  const auto all = read_everything(*j);
  REQUIRE(all.size() == 5);
  CHECK(all[0].correlation_id == "cmd-same-0");
  CHECK(all[1].correlation_id == "cmd-same-0");
  CHECK(all[2].correlation_id == "corr-other");
  CHECK(all[3].command_id == "cmd-none-0");
  CHECK(all[3].correlation_id.empty());
  CHECK(all[4].command_id.empty());
  CHECK(all[4].correlation_id.empty());
  raw_db db{backend.path};
  CHECK(stored_correlations(db) == std::vector<std::string>{"NULL", "NULL", "'corr-other'", "''", "NULL"});
}

TEST_CASE("short correlation: postgres stores a correlation equal to the command id as NULL and reads every id back",
          "[journal][postgres][format]") {
  postgres_backend backend;
  auto j = open_journal(backend.factory);
  append_and_read_back(*j, every_kind_of_correlation());
  const auto in_schema = "\"" + backend.schema + "\".";
  auto stored = postgres_exec(backend.url, "SELECT string_agg(coalesce(quote_literal(correlation_id), 'NULL'), ','"
                                           " ORDER BY position) FROM " + in_schema + "event_rows");
  REQUIRE(stored);
  CHECK(std::string{stored->text(0, 0)} == "NULL,NULL,'corr-other','',NULL");
  // psql's view shows the ids as appended.
  auto shown = postgres_exec(backend.url, "SELECT string_agg(command_id || '|' || correlation_id, ',' ORDER BY position)"
                                          " FROM " + in_schema + "events");
  REQUIRE(shown);
  CHECK(std::string{shown->text(0, 0)} ==
        "cmd-same-0|cmd-same-0,cmd-same-0|cmd-same-0,cmd-other-0|corr-other,cmd-none-0|,|");
}
