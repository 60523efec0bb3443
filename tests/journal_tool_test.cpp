// build/tools/interlock-journal, run as an operator would run it.
#include <catch2/catch.hpp>

#include <filesystem>

#include "journal_test_support.hpp"
#include "old_format_files.hpp"
#include "process_runner.hpp"
#include "raw_db.hpp"

using namespace journal_testing;
using testing_support::raw_db;
using testing_support::run_program;

namespace {

std::string tool(const std::string& args) {
  std::string command = INTERLOCK_TOOL_JOURNAL;
  command.append(" ").append(args).append(" 2>&1");
  return command;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("interlock-journal upgrade: a format-2 file is upgraded in place, the original kept, the events the same",
          "[tool][upgrade]") {
  temp_dir dir;
  const auto path = (dir.path / "old.db").string();
  testing_support::create_old_journal(path, 2);
  raw_db{path}.exec(
      "INSERT INTO streams VALUES (1, 'A', 'x', 2, 1, 3), (2, 'B', 'y', 1, 2, 2);"
      "INSERT INTO events VALUES (1, 1, 1, 'E', 1, '{\"n\":1}', 5, 'c1', 'c1', NULL),"
      " (2, 2, 1, 'E', 2, '{\"n\":2}', 6, 'c2', 'k', 'c1'), (3, 1, 2, 'F', 1, '{\"n\":3}', 7, NULL, NULL, NULL);"
      "INSERT INTO snapshots VALUES (1, 2, 1, '{\"s\":1}', 8);"
      "INSERT INTO commands VALUES ('c1', 1, 1, 1, 1, '{}');");
  const auto result = run_program(tool("upgrade " + path));
  INFO(joined(result.lines));
  CHECK(result.exit_code == 0);
  CHECK_THAT(joined(result.lines), Contains("from format 2 to format 7: 3 events in 2 streams"));
  CHECK(std::filesystem::exists(path + ".format-2.bak"));
  CHECK_FALSE(std::filesystem::exists(path + ".upgrading"));
  auto j = value_of(open_sqlite_journal({path}));
  const auto all = read_everything(*j);
  REQUIRE(all.size() == 3);
  CHECK(all[1].aggregate_id == "y");
  CHECK(all[1].schema_version == 2);
  CHECK(all[1].correlation_id == "k");
  CHECK(all[1].causation_id == "c1");
  CHECK(all[2].version == 2);
  CHECK(value_of(j->load_snapshot("A", "x", 10, now_us()))->state == R"({"s":1})");
  // The command, its stream named now, no type (format 2 did not keep it), not refused.
  const auto c1 = value_of(j->find_command("c1"));
  REQUIRE(c1);
  CHECK((c1->aggregate_type == "A" && c1->aggregate_id == "x"));
  CHECK((c1->first_position == 1 && c1->last_position == 1 && c1->last_version == 1));
  CHECK(c1->result_json == "{}");
  CHECK(c1->command_type.empty());
  CHECK_FALSE(c1->refusal);
  // Run again: nothing to do.
  const auto again = run_program(tool("upgrade " + path));
  CHECK(again.exit_code == 0);
  CHECK_THAT(joined(again.lines), Contains("in format 7 already"));
}

TEST_CASE("interlock-journal upgrade: damaged events are refused, the original untouched", "[tool][upgrade]") {
  temp_dir dir;
  const auto path = (dir.path / "old.db").string();
  testing_support::create_old_journal(path, 2);
  raw_db{path}.exec(  // A/x has version 1 and then version 3
      "INSERT INTO streams VALUES (1, 'A', 'x', 3, 1, 2);"
      "INSERT INTO events VALUES (1, 1, 1, 'E', 1, '{}', 5, NULL, NULL, NULL), (2, 1, 3, 'E', 1, '{}', 6, NULL, NULL, NULL);");
  const auto before = raw_db{path}.rows("SELECT * FROM events");
  const auto result = run_program(tool("upgrade " + path));
  CHECK(result.exit_code == 1);
  CHECK_THAT(joined(result.lines), Contains("stream 'A/x'") && Contains("version 3 at position 2 without the version before it"));
  CHECK_FALSE(std::filesystem::exists(path + ".format-2.bak"));
  CHECK_FALSE(std::filesystem::exists(path + ".upgrading"));
  CHECK(raw_db{path}.rows("SELECT * FROM events") == before);
  CHECK(raw_db{path}.rows("SELECT value FROM journal_meta WHERE key = 'format_version'") ==
        std::vector<std::string>{"2"});
}

TEST_CASE("interlock-journal: a wrong command line names the commands and exits 2", "[tool]") {
  const auto result = run_program(tool("upgrayedd x.db"));
  CHECK(result.exit_code == 2);
  CHECK_THAT(joined(result.lines), Contains("unknown command 'upgrayedd'") && Contains("upgrade"));
}
