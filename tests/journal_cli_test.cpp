// build/tools/interlock-journal's subcommands, run as an operator would run
// them, against journal files the library wrote in a temp dir: the exact
// JSON forms, the tables' key content, verify on good and damaged files,
// export -> import, import's refusals, tail --follow, errors and --help.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include <interlock/persistence/read_store.hpp>
#include <interlock/persistence/sqlite_read_store.hpp>

#include "journal_test_support.hpp"
#include "old_format_files.hpp"
#include "process_runner.hpp"
#include "raw_db.hpp"

extern char** environ;

using namespace journal_testing;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using testing_support::raw_db;
using testing_support::run_program;

namespace {

// -- running the tool ---------------------------------------------------------

// The tool's stdout (stderr too with `with_stderr`), its exit status.
testing_support::run_result tool(const std::string& args, bool with_stderr = false) {
  return run_program(std::string{INTERLOCK_TOOL_JOURNAL} + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

std::string text_of(const testing_support::run_result& r) {
  std::string out;
  for (const auto& l : r.lines) out += l + "\n";
  return out;
}

json json_of(const testing_support::run_result& r) {
  INFO(text_of(r));
  REQUIRE(r.exit_code == 0);
  return json::parse(text_of(r));
}

std::vector<json> jsonl_of(const testing_support::run_result& r) {
  INFO(text_of(r));
  REQUIRE(r.exit_code == 0);
  std::vector<json> out;
  for (const auto& l : r.lines) out.push_back(json::parse(l));
  return out;
}

std::vector<std::uint64_t> positions_in(const std::vector<json>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e["position"].get<std::uint64_t>());
  return out;
}

std::string iso(std::int64_t us) {
  const std::time_t t = us / 1'000'000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char date[32], out[48];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(out, sizeof out, "%s.%06lldZ", date, static_cast<long long>(us % 1'000'000));
  return out;
}

// -- the sample journal -------------------------------------------------------

append_request one(const std::string& type, const std::string& id, std::uint64_t expected, const std::string& event,
                   const std::string& payload, const std::string& cmd = "", const std::string& corr = "",
                   const std::string& cause = "") {
  append_request req;
  req.aggregate_type = type;
  req.aggregate_id = id;
  req.expected_version = expected;
  req.events.push_back({event, 1, payload});
  req.command_id = cmd;
  req.correlation_id = corr;
  req.causation_id = cause;
  return req;
}

// Six events in three streams (positions 1..6):
//   1 Account/a1 v1 Opened   2 Order/o1 v1 Placed   3 Account/a1 v2 Deposited
//   4 Account/a2 v1 Opened   5 Account/a1 v3 Deposited (+ snapshot, recorded command)
//   6 Order/o1 v2 Shipped (schema 2)
// and a refused command on Account/a2.
void write_sample(const std::string& path) {
  auto j = value_of(open_sqlite_journal({path}));
  append_ok(*j, one("Account", "a1", 0, "Opened", R"({"owner":"Ann"})", "c-open-a1", "c-open-a1"));
  append_ok(*j, one("Order", "o1", 0, "Placed", R"({"item":"tea","qty":2})", "c-place", "conv-1", "c-open-a1"));
  append_ok(*j, one("Account", "a1", 1, "Deposited", R"({"amount":100})", "c-dep-1", "conv-1", "c-place"));
  append_ok(*j, one("Account", "a2", 0, "Opened", R"({"owner":"Bob"})"));
  auto deposit = one("Account", "a1", 2, "Deposited", R"({"amount":5,"note":"ünï"})", "c-dep-2", "conv-1");
  deposit.snapshot = snapshot_record{3, 1, R"({"balance":105})"};
  deposit.record_command = true;
  deposit.result_json = "{}";
  deposit.command_type = "Deposit";
  append_ok(*j, deposit);
  auto ship = one("Order", "o1", 1, "Shipped", "{}", "c-ship", "c-ship");
  ship.events[0].schema_version = 2;
  append_ok(*j, ship);
  append_request refused;
  refused.aggregate_type = "Account";
  refused.aggregate_id = "a2";
  refused.expected_version = 1;
  refused.command_id = "c-refused";
  refused.command_type = "Withdraw";
  refused.record_command = true;
  refused.refusal = make_error(errc::rejected, "Amount must be positive");
  append_ok(*j, refused);
}

// A read store beside `journal`: two checkpoints and a parked event.
void write_read_store(const std::string& journal, std::uint64_t late_position = 0) {
  auto store = value_of(open_sqlite_read_store(read_store_path_for(journal)));
  REQUIRE_FALSE(store->save_checkpoint("Balances", {4, 1, "", 0}));
  REQUIRE_FALSE(store->save_checkpoint("Orders", {6, 2, R"({"n":2})", 0}));
  if (late_position > 0) REQUIRE_FALSE(store->save_checkpoint("Late", {late_position, 1, "", 0}));
  REQUIRE_FALSE(store->park("Balances", {5, "Account/a1", 3, "Deposited", "handler threw: boom", 3, 0}));
}

struct sample {
  temp_dir dir;
  std::string path = (dir.path / "shop.db").string();
  sample() { write_sample(path); }
  std::vector<stored_event> events() {
    auto j = value_of(open_sqlite_journal({path}));
    return read_everything(*j);
  }
};

// -- a child process whose stdout is read line by line ------------------------

class child_process {
 public:
  explicit child_process(std::vector<std::string> args) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    fd_ = fds[0];
    REQUIRE(rc == 0);
  }
  ~child_process() {
    if (!reaped_) ::kill(pid_, SIGKILL), wait();
    ::close(fd_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // The next line, or "" after 20 s without one.
  std::string next_line() {
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        auto line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20'000) <= 0) return {};
      char chunk[4096];
      const auto n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return {};
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  int wait() {
    if (!reaped_) {
      while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::string buf_;
};

std::size_t event_count(const std::string& path) { return raw_db{path}.rows("SELECT * FROM events").size(); }

std::string write_file(const fs::path& path, const std::string& text) {
  std::ofstream{path} << text;
  return path.string();
}

}  // namespace

// -- events -------------------------------------------------------------------

TEST_CASE("interlock-journal events --json: every event with every field, as the library stored it", "[tool][cli]") {
  sample s;
  const auto stored = s.events();
  const auto r = tool("events " + s.path + " --json");
  const auto all = json_of(r);
  REQUIRE(all.is_array());
  const auto in_order = nlohmann::ordered_json::parse(text_of(r));
  REQUIRE(all.size() == stored.size());
  const std::vector<std::string> keys{"position",       "stream",     "aggregate_type", "aggregate_id",
                                      "version",        "type",       "schema_version", "recorded_at",
                                      "recorded_at_us", "command_id", "correlation_id", "causation_id",
                                      "payload"};
  const auto id = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const auto& e = stored[i];
    const auto& j = all[i];
    std::vector<std::string> names;
    for (const auto& [k, v] : in_order[i].items()) names.push_back(k);
    CHECK(names == keys);
    CHECK(j["position"] == e.position);
    CHECK(j["stream"] == e.aggregate_type + "/" + e.aggregate_id);
    CHECK(j["aggregate_type"] == e.aggregate_type);
    CHECK(j["aggregate_id"] == e.aggregate_id);
    CHECK(j["version"] == e.version);
    CHECK(j["type"] == e.event_type);
    CHECK(j["schema_version"] == e.schema_version);
    CHECK(j["recorded_at_us"] == e.recorded_at_us);
    CHECK(j["recorded_at"] == iso(e.recorded_at_us));
    CHECK(j["command_id"] == id(e.command_id));
    CHECK(j["correlation_id"] == id(e.correlation_id));
    CHECK(j["causation_id"] == id(e.causation_id));
    CHECK(j["payload"] == json::parse(e.payload));
  }
  CHECK(all[1]["payload"] == json{{"item", "tea"}, {"qty", 2}});
  CHECK(all[1]["correlation_id"] == "conv-1");
  CHECK(all[1]["causation_id"] == "c-open-a1");
  CHECK(all[3]["command_id"].is_null());
  CHECK(all[4]["payload"]["note"] == "ünï");
  CHECK(all[5]["schema_version"] == 2);
  CHECK(all[5]["correlation_id"] == "c-ship");  // stored as NULL: the same as the command id
}

TEST_CASE("interlock-journal events: a stream, --from, --limit and the filters pick exactly their events",
          "[tool][cli]") {
  sample s;
  const auto events = [&](const std::string& args) { return positions_in(jsonl_of(tool("events " + s.path + " --jsonl " + args))); };
  using v = std::vector<std::uint64_t>;
  CHECK(events("") == v{1, 2, 3, 4, 5, 6});
  CHECK(events("Account/a1") == v{1, 3, 5});
  CHECK(events("Order/o1") == v{2, 6});
  CHECK(events("--from 4") == v{4, 5, 6});
  CHECK(events("--from 2 --limit 2") == v{2, 3});
  CHECK(events("Account/a1 --limit 2") == v{1, 3});
  CHECK(events("--aggregate-type Order") == v{2, 6});
  CHECK(events("--event-type Deposited") == v{3, 5});
  CHECK(events("--event-type Opened --event-type Shipped") == v{1, 4, 6});
  CHECK(events("--aggregate-type Account --event-type Opened") == v{1, 4});
  CHECK(events("--correlation conv-1") == v{2, 3, 5});
  CHECK(events("--correlation c-open-a1") == v{1});
  CHECK(events("--command c-dep-2") == v{5});
  CHECK(events("--since 2000-01-01") == v{1, 2, 3, 4, 5, 6});
  CHECK(events("--since 2999-01-01T00:00:00Z").empty());
  CHECK(events("--until 2000-01-01T00:00").empty());
  CHECK(events("--since 2000-01-01T00:00:00.5+02:00 --until 2999-12-31").size() == 6);
  const auto stored = s.events();
  CHECK(events("--since " + iso(stored[3].recorded_at_us) + " --until " + iso(stored[4].recorded_at_us)) ==
        positions_of({stored[3], stored[4]}));
  // One array, also when empty.
  CHECK(json_of(tool("events " + s.path + " --json --since 2999-01-01")) == json::array());
}

TEST_CASE("interlock-journal events: an aligned table, the payload cut to the width, plain when piped",
          "[tool][cli]") {
  sample s;
  const auto r = tool("events " + s.path + " --width 90");
  INFO(text_of(r));
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.lines.size() == 7);
  CHECK_THAT(r.lines[0], Catch::Matchers::Matches("POSITION +TIME +STREAM +VERSION +TYPE +PAYLOAD"));
  CHECK_THAT(r.lines[2], Catch::Matchers::Matches(" +2  \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z  Order/o1 +1  Placed +\\{\"item\".*"));
  CHECK_THAT(r.lines[6], Contains("Order/o1") && Contains("Shipped") && Contains("{}"));
  const auto payload_at = r.lines[0].find("PAYLOAD");
  for (const auto& line : r.lines) {
    CHECK(line.find('\x1b') == std::string::npos);  // no colour into a pipe
    std::size_t width = 0;
    for (char c : line) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    CHECK(width <= 90);
  }
  CHECK(r.lines[5].substr(payload_at).starts_with("{\"amount\":5,\"n"));
  CHECK_THAT(r.lines[5], EndsWith("…"));
  // Without a width (not a terminal, no COLUMNS) nothing is cut.
  const auto wide = tool("events " + s.path + " Account/a1");
  CHECK_THAT(text_of(wide), Contains(R"({"amount":5,"note":"ünï"})"));
}

// -- streams ------------------------------------------------------------------

TEST_CASE("interlock-journal streams: every stream with its counts and times, --type, --sort, --limit",
          "[tool][cli]") {
  sample s;
  const auto stored = s.events();
  const auto all = json_of(tool("streams " + s.path + " --json"));
  REQUIRE(all.size() == 3);
  CHECK(all[0] == json{{"stream", "Account/a1"},
                       {"aggregate_type", "Account"},
                       {"aggregate_id", "a1"},
                       {"events", 3},
                       {"version", 3},
                       {"first_position", 1},
                       {"last_position", 5},
                       {"first_recorded_at", iso(stored[0].recorded_at_us)},
                       {"last_recorded_at", iso(stored[4].recorded_at_us)}});
  CHECK(all[1]["stream"] == "Account/a2");
  CHECK((all[1]["events"] == 1 && all[1]["version"] == 1));
  CHECK(all[2]["stream"] == "Order/o1");
  CHECK((all[2]["events"] == 2 && all[2]["first_position"] == 2 && all[2]["last_position"] == 6));
  const auto names = [&](const std::string& args) {
    std::vector<std::string> out;
    for (const auto& st : json_of(tool("streams " + s.path + " --json " + args))) out.push_back(st["stream"]);
    return out;
  };
  using v = std::vector<std::string>;
  CHECK(names("--type Order") == v{"Order/o1"});
  CHECK(names("--sort events") == v{"Account/a1", "Order/o1", "Account/a2"});
  CHECK(names("--sort last") == v{"Order/o1", "Account/a1", "Account/a2"});
  CHECK(names("--sort first") == v{"Account/a1", "Order/o1", "Account/a2"});
  CHECK(names("--sort events --limit 1") == v{"Account/a1"});
  const auto table = tool("streams " + s.path);
  INFO(text_of(table));
  REQUIRE(table.lines.size() == 4);
  CHECK_THAT(table.lines[0], Catch::Matchers::Matches("TYPE +ID +EVENTS +VERSION +FIRST +LAST"));
  CHECK_THAT(table.lines[1], Catch::Matchers::Matches("Account +a1 +3 +3 +\\d{4}-.*Z +\\d{4}-.*Z"));
  CHECK_THAT(table.lines[3], Catch::Matchers::Matches("Order +o1 +2 +2 +.*"));
  // A bad --sort is a usage error.
  CHECK(tool("streams " + s.path + " --sort size").exit_code == 2);
}

// -- stats --------------------------------------------------------------------

TEST_CASE("interlock-journal stats: counts by type and day, sizes, snapshots, commands, checkpoints",
          "[tool][cli]") {
  sample s;
  write_read_store(s.path);
  const auto stored = s.events();
  const auto st = json_of(tool("stats " + s.path + " --json"));
  CHECK(st["file"] == s.path);
  CHECK(st["file_bytes"].get<std::uint64_t>() == fs::file_size(s.path));
  CHECK(st["events"] == 6);
  CHECK(st["streams"] == 3);
  CHECK((st["first_position"] == 1 && st["last_position"] == 6));
  CHECK(st["first_recorded_at"] == iso(stored[0].recorded_at_us));
  CHECK(st["last_recorded_at"] == iso(stored[5].recorded_at_us));
  CHECK(st["event_types"] == json::parse(R"([{"type":"Deposited","events":2},{"type":"Opened","events":2},
                                             {"type":"Placed","events":1},{"type":"Shipped","events":1}])"));
  CHECK(st["aggregate_types"] ==
        json::parse(R"([{"type":"Account","streams":2,"events":4},{"type":"Order","streams":1,"events":2}])"));
  std::int64_t per_day = 0;
  for (const auto& d : st["days"]) per_day += d["events"].get<std::int64_t>();
  CHECK(per_day == 6);
  CHECK(st["days"][0]["day"] == iso(stored[0].recorded_at_us).substr(0, 10));
  CHECK(st["snapshots"] == json{{"count", 1}, {"streams", 1}, {"bytes", 15}});
  CHECK(st["commands"] == json{{"count", 2}, {"refused", 1}, {"without_events", 0}});
  CHECK(st["read_store"] == json{{"path", read_store_path_for(s.path)},
                                 {"checkpoints",
                                  {{{"projection", "Balances"}, {"position", 4}, {"lag", 2}},
                                   {{"projection", "Orders"}, {"position", 6}, {"lag", 0}}}},
                                 {"parked", 1}});
  const auto text = text_of(tool("stats " + s.path));
  CHECK_THAT(text, Contains("6 in 3 streams, positions 1..6") && Contains("1 of 1 streams") &&
                       Contains("2 recorded (1 refused, 0 without events)") && Contains("Deposited") &&
                       Contains("Balances") && Contains("1 parked events"));
  // Without a read store beside it, or with one named.
  fs::remove(read_store_path_for(s.path));
  CHECK(json_of(tool("stats " + s.path + " --json"))["read_store"].is_null());
}

// -- verify -------------------------------------------------------------------

TEST_CASE("interlock-journal verify: a sound journal passes with exit status 0", "[tool][cli][verify]") {
  sample s;
  write_read_store(s.path);
  const auto r = tool("verify " + s.path, true);
  INFO(text_of(r));
  CHECK(r.exit_code == 0);
  CHECK(text_of(r) == "OK " + s.path +
                          ": 6 events (last position 6) in 3 streams, 1 snapshots, 2 commands, 2 checkpoints checked\n");
  const auto j = json_of(tool("verify " + s.path + " --json"));
  CHECK(j["ok"] == true);
  CHECK(j["problems"] == json::array());
}

TEST_CASE("interlock-journal verify: a deleted event is a position gap and a version gap, named precisely",
          "[tool][cli][verify]") {
  sample s;
  raw_db{s.path}.exec("DELETE FROM events WHERE global_position = 3");
  const auto r = tool("verify " + s.path);
  INFO(text_of(r));
  CHECK(r.exit_code == 1);
  CHECK(r.lines == std::vector<std::string>{
                       "global position 3 missing: position 4 follows position 2",
                       "stream 'Account/a1': version 3 at position 5 follows version 1 at position 1 (version 2 missing)",
                       "FAILED " + s.path + ": 2 problems; 5 events (last position 6) in 3 streams, 1 snapshots, "
                                            "2 commands, 0 checkpoints checked"});
}

TEST_CASE("interlock-journal verify: the first event of the log and of a stream deleted", "[tool][cli][verify]") {
  sample s;
  raw_db{s.path}.exec("DELETE FROM events WHERE global_position = 1");
  const auto r = tool("verify " + s.path + " --json");
  CHECK(r.exit_code == 1);
  const auto j = json::parse(text_of(r));
  CHECK(j["ok"] == false);
  CHECK(j["problems"] == json{"global position 1 missing: the log starts at position 2",
                              "stream 'Account/a1': its first event, version 2 at position 3, is not version 1",
                              "stream 'Account/a1': its streams row says its first event is at position 1, it is at "
                              "position 3"});
}

TEST_CASE("interlock-journal verify: a payload that is not JSON is named with its stream, version and position",
          "[tool][cli][verify]") {
  sample s;
  raw_db{s.path}.exec(R"(UPDATE events SET payload = '{"item":"tea",' WHERE global_position = 2)");
  const auto r = tool("verify " + s.path);
  INFO(text_of(r));
  CHECK(r.exit_code == 1);
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[0] == "stream 'Order/o1' version 1 at position 2: the payload is not valid JSON (parse error at "
                     "line 1, column 15: syntax error while parsing object key - unexpected end of input; expected "
                     "string literal)");
  CHECK_THAT(r.lines[1], StartsWith("FAILED " + s.path + ": 1 problems;"));
}

TEST_CASE("interlock-journal verify: a category copy that differs from its events is named with the fields",
          "[tool][cli][verify]") {
  sample s;
  {
    sqlite_options with_copies{s.path};
    with_copies.category_copies = true;
    value_of(open_sqlite_journal(with_copies));  // indexes every event again, with its copy
  }
  CHECK(tool("verify " + s.path).exit_code == 0);
  raw_db db{s.path};
  db.exec(R"(UPDATE events SET payload = '{"amount":1000}' WHERE global_position = 3)");
  db.exec("UPDATE events SET command_id = 'c-other', schema_version = 2 WHERE global_position = 5");
  const auto r = tool("verify " + s.path);
  INFO(text_of(r));
  CHECK(r.exit_code == 1);
  REQUIRE(r.lines.size() == 3);
  CHECK(r.lines[0] == "the category copy of Account/Deposited from position 3: position 3: its payload differs from "
                      "the events table's");
  CHECK(r.lines[1] == "the category copy of Account/Deposited from position 3: position 5: its schema version, "
                      "command id differ from the events table's");
  CHECK_THAT(r.lines[2], StartsWith("FAILED " + s.path + ": 2 problems;"));
}

TEST_CASE("interlock-journal verify: a version gap, a version stored twice, a snapshot past its stream, a "
          "checkpoint past the log",
          "[tool][cli][verify]") {
  sample s;
  write_read_store(s.path, 9);
  raw_db{s.path}.exec(
      "DROP INDEX events_by_span;"  // else a version stored twice in a span could not be written
      "UPDATE events SET version = 5 WHERE global_position = 6;"  // Order/o1: 1, 5
      "UPDATE events SET version = 1 WHERE global_position = 3;"  // Account/a1: 1, 1, 3
      "UPDATE snapshots SET version = 7;");
  const auto j = json::parse(text_of(tool("verify " + s.path + " --json")));
  CHECK(j["problems"] ==
        json{"stream 'Account/a1': version 1 at position 3 follows version 1 at position 1 (stored twice)",
             "stream 'Account/a1': version 3 at position 5 follows version 1 at position 3 (version 2 missing)",
             "stream 'Order/o1': version 5 at position 6 follows version 1 at position 2 (versions 2..4 missing)",
             "stream 'Account/a1': the snapshot at version 7 is not within the stream's versions 1..3",
             "read store '" + read_store_path_for(s.path) +
                 "': projection 'Late' has its checkpoint at position 9, past the journal's last position 6"});
  CHECK(j["problem_count"] == 5);
  CHECK(tool("verify " + s.path).exit_code == 1);
}

// -- export and import ----------------------------------------------------------

TEST_CASE("interlock-journal export -> import: the same events in the same order, ids and payloads",
          "[tool][cli][import]") {
  sample s;
  const auto out = (s.dir.path / "shop.jsonl").string();
  const auto exported = tool("export " + s.path + " -o " + out, true);
  INFO(text_of(exported));
  REQUIRE(exported.exit_code == 0);
  CHECK(text_of(exported) == "exported 6 events to " + out + "\n");
  // Its lines are the --jsonl form.
  std::ifstream in{out};
  std::vector<json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(json::parse(l));
  CHECK(lines == jsonl_of(tool("events " + s.path + " --jsonl")));
  // Into a new journal from a file, and into another from stdin.
  const auto copy = (s.dir.path / "copy.db").string();
  const auto imported = tool("import " + copy + " -i " + out, true);
  INFO(text_of(imported));
  REQUIRE(imported.exit_code == 0);
  CHECK(text_of(imported) == "imported 6 events of 3 streams into " + copy + " at positions 1..6\n");
  const auto piped = (s.dir.path / "piped.db").string();
  REQUIRE(tool("import " + piped + " < " + out).exit_code == 0);
  for (const auto& target : {copy, piped}) {
    auto j = value_of(open_sqlite_journal({target}));
    auto again = read_everything(*j);
    auto original = s.events();
    REQUIRE(again.size() == original.size());
    for (std::size_t i = 0; i < original.size(); ++i) {
      again[i].recorded_at_us = original[i].recorded_at_us;  // import stamps its own commit time
      check_same(again[i], original[i]);
    }
  }
  // Exporting the copy gives the same lines but for the times.
  auto second = jsonl_of(tool("export " + copy));
  REQUIRE(second.size() == lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    for (auto* l : {&lines[i], &second[i]}) l->erase("recorded_at"), l->erase("recorded_at_us");
    CHECK(second[i] == lines[i]);
  }
  // A verify of the copy passes.
  CHECK(tool("verify " + copy).exit_code == 0);
}

TEST_CASE("interlock-journal export: one stream, or a range of positions", "[tool][cli][import]") {
  sample s;
  using v = std::vector<std::uint64_t>;
  CHECK(positions_in(jsonl_of(tool("export " + s.path + " Account/a1"))) == v{1, 3, 5});
  CHECK(positions_in(jsonl_of(tool("export " + s.path + " --from 2 --to 4"))) == v{2, 3, 4});
  CHECK(tool("export " + s.path + " Account/a1 --from 2").exit_code == 2);  // a stream or a range, not both
  const auto missing = tool("export " + s.path + " Account/zz", true);
  CHECK(missing.exit_code == 1);
  CHECK_THAT(text_of(missing), Contains("no stream 'Account/zz' in journal '" + s.path + "'"));
  // Into a journal holding Account/a1's first event, the rest of it follows on.
  temp_dir dir;
  const auto target = (dir.path / "t.db").string();
  { append_ok(*value_of(open_sqlite_journal({target})), one("Account", "a1", 0, "Opened", "{}")); }
  const auto rest = write_file(dir.path / "rest.jsonl", [&] {
    std::string t;
    for (const auto& l : tool("export " + s.path + " Account/a1").lines)
      if (json::parse(l)["version"] != 1) t += l + "\n";
    return t;
  }());
  const auto r = tool("import " + target + " -i " + rest, true);
  INFO(text_of(r));
  CHECK(r.exit_code == 0);
  CHECK(versions_of(read_everything(*value_of(open_sqlite_journal({target})))) == v{1, 2, 3});
}

TEST_CASE("interlock-journal import: what breaks versions or order is refused, naming the line, and nothing is "
          "written",
          "[tool][cli][import]") {
  sample s;
  const auto line = [](const std::string& stream, int version, int position = 0) {
    json j{{"stream", stream}, {"version", version}, {"type", "E"}, {"payload", {{"n", version}}}};
    if (position > 0) j["position"] = position;
    return j.dump() + "\n";
  };
  const auto refused = [&](const std::string& journal, const std::string& input, const std::string& message) {
    const auto in = write_file(s.dir.path / "in.jsonl", input);
    const bool existed = fs::exists(journal);
    const auto before = existed ? event_count(journal) : 0;
    const auto r = tool("import " + journal + " -i " + in, true);
    INFO(text_of(r));
    CHECK(r.exit_code == 1);
    CHECK(text_of(r) == "interlock-journal: '" + in + "' " + message + "; nothing imported\n");
    CHECK(fs::exists(journal) == existed);
    if (existed) CHECK(event_count(journal) == before);
  };
  const auto fresh = (s.dir.path / "fresh.db").string();
  refused(fresh, line("A/x", 1) + line("A/x", 2) + line("A/x", 4),
          "line 3: stream 'A/x' version 4 is not the stream's next version, 3");
  refused(fresh, line("A/x", 2), "line 1: stream 'A/x' version 2 is not the stream's next version, 1");
  refused(fresh, line("A/x", 1) + line("A/x", 1), "line 2: stream 'A/x' version 1 is not the stream's next version, 2");
  refused(fresh, line("A/x", 1, 5) + line("B/y", 1, 7) + line("A/x", 2, 6),
          "line 3: position 6 goes backwards: line 2 has position 7");
  refused(fresh, line("A/x", 1) + "\n" + "{\"stream\":\"A/x\",\"version\":2,\n",
          "line 3: not a JSON object");
  refused(fresh, R"({"stream":"A/x","version":1,"payload":{}})" "\n", "line 1: no \"type\"");
  refused(fresh, R"({"stream":"A/x","version":0,"type":"E","payload":{}})" "\n",
          "line 1: \"version\" is not a positive integer");
  refused(fresh, R"({"stream":"A/x","version":1,"type":"E"})" "\n", "line 1: no \"payload\"");
  // Against what the journal holds: Account/a1 is at version 3, the last position is 6.
  refused(s.path, line("B/y", 1) + line("Account/a1", 3),
          "line 2: stream 'Account/a1' version 3 is not the stream's next version, 4");
  refused(s.path, line("B/y", 1, 8) + line("B/y", 2, 7), "line 2: position 7 goes backwards: line 1 has position 8");
  refused(s.path, line("B/y", 1, 6), "line 1: position 6 is not after the journal's last position 6");
  // What the journal itself would refuse.
  refused(s.path, R"({"aggregate_type":"B","aggregate_id":"","version":1,"type":"E","payload":{}})" "\n",
          "line 1: aggregate_id is empty (aggregate_type 'B')");
  refused(s.path, R"({"version":1,"type":"E","payload":{}})" "\n",
          "line 1: no \"aggregate_type\" and \"aggregate_id\", nor a \"stream\" Type/id");
  // And what follows on is taken.
  const auto in = write_file(s.dir.path / "ok.jsonl", line("Account/a1", 4, 7) + line("B/y", 1, 9));
  const auto r = tool("import " + s.path + " -i " + in, true);
  INFO(text_of(r));
  CHECK(r.exit_code == 0);
  CHECK(event_count(s.path) == 8);
}

// -- tail ---------------------------------------------------------------------

TEST_CASE("interlock-journal tail: the last events, --follow prints an event appended after it started",
          "[tool][cli][tail]") {
  sample s;
  using v = std::vector<std::uint64_t>;
  CHECK(positions_in(jsonl_of(tool("tail " + s.path + " -n 2 --jsonl"))) == v{5, 6});
  CHECK(positions_in(jsonl_of(tool("tail " + s.path + " --jsonl --aggregate-type Order"))) == v{2, 6});
  const auto table = tool("tail " + s.path + " -n 1");
  REQUIRE(table.lines.size() == 2);
  CHECK_THAT(table.lines[1], Contains("Order/o1") && Contains("Shipped"));

  child_process follower{{INTERLOCK_TOOL_JOURNAL, "tail", s.path, "--follow", "-n", "1", "--jsonl", "--interval-ms", "50"}};
  const auto first = follower.next_line();
  REQUIRE_FALSE(first.empty());
  CHECK(json::parse(first)["position"] == 6);
  {
    auto j = value_of(open_sqlite_journal({s.path}));
    append_ok(*j, one("Account", "a2", 1, "Renamed", R"({"owner":"Bo"})", "c-rename"));
    append_ok(*j, one("Order", "o1", 2, "Delivered", "{}"));
  }
  const auto seventh = follower.next_line();
  REQUIRE_FALSE(seventh.empty());
  const auto e = json::parse(seventh);
  CHECK(e["position"] == 7);
  CHECK(e["stream"] == "Account/a2");
  CHECK(e["type"] == "Renamed");
  CHECK(e["payload"] == json{{"owner", "Bo"}});
  CHECK(json::parse(follower.next_line())["position"] == 8);
  follower.signal(SIGTERM);
  const int status = follower.wait();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// -- projections ----------------------------------------------------------------

TEST_CASE("interlock-journal projections: checkpoints, lag and parked events, from the journal or the read store",
          "[tool][cli]") {
  sample s;
  write_read_store(s.path);
  const auto store = read_store_path_for(s.path);
  const auto from_journal = json_of(tool("projections " + s.path + " --json"));
  CHECK(from_journal["read_store"] == store);
  CHECK(from_journal["journal"] == s.path);
  CHECK(from_journal["last_position"] == 6);
  REQUIRE(from_journal["projections"].size() == 2);
  auto balances = from_journal["projections"][0];
  CHECK(balances["saved_at"].get<std::string>().size() == 27);
  balances.erase("saved_at");
  CHECK(balances == json{{"projection", "Balances"}, {"position", 4}, {"lag", 2}, {"state_version", 1},
                         {"state_bytes", 0}, {"parked", 1}});
  CHECK(from_journal["projections"][1]["state_bytes"] == 7);
  REQUIRE(from_journal["parked"].size() == 1);
  auto parked = from_journal["parked"][0];
  parked.erase("parked_at");
  CHECK(parked == json{{"projection", "Balances"}, {"position", 5}, {"stream", "Account/a1"}, {"version", 3},
                       {"event_type", "Deposited"}, {"attempts", 3}, {"error", "handler threw: boom"}});
  // From the read store, the journal beside it is found.
  CHECK(json_of(tool("projections " + store + " --json")) == from_journal);
  const auto text = text_of(tool("projections " + store));
  CHECK_THAT(text, Contains("Balances") && Contains("handler threw: boom") && Contains("Account/a1"));
  // Replaying is the application's.
  const auto replay = tool("projections " + s.path + " --replay-parked Balances", true);
  CHECK(replay.exit_code == 1);
  CHECK_THAT(text_of(replay), Contains("app->replay_parked(\"Balances\", position)") && Contains("positions 5"));
}

// -- errors, usage, help ----------------------------------------------------------

TEST_CASE("interlock-journal: a missing file, a file that is no database, no journal or an old format is named, "
          "exit 1",
          "[tool][cli]") {
  temp_dir dir;
  const auto missing = (dir.path / "nope.db").string();
  const auto r = tool("streams " + missing, true);
  CHECK(r.exit_code == 1);
  CHECK(text_of(r) == "interlock-journal: cannot open journal '" + missing + "': no such file\n");
  const auto text = write_file(dir.path / "notes.txt", std::string(2000, 'x'));
  const auto not_db = tool("events " + text, true);
  CHECK(not_db.exit_code == 1);
  CHECK(text_of(not_db) == "interlock-journal: cannot open journal '" + text + "': it is not a SQLite database\n");
  const auto other = (dir.path / "other.db").string();
  raw_db{other}.exec("CREATE TABLE t (x)");
  const auto not_journal = tool("verify " + other, true);
  CHECK(not_journal.exit_code == 1);
  CHECK_THAT(text_of(not_journal), Contains("'" + other + "': it is a SQLite database but not an interlock journal"));
  const auto old = (dir.path / "old.db").string();
  testing_support::create_old_journal(old, 2);
  const auto old_format = tool("stats " + old, true);
  CHECK(old_format.exit_code == 1);
  CHECK_THAT(text_of(old_format), Contains("it is in format 2") && Contains("interlock-journal upgrade " + old));
  // Reading never creates a file.
  CHECK_FALSE(fs::exists(missing));
}

TEST_CASE("interlock-journal: reads beside a writer that holds the write lock", "[tool][cli]") {
  sample s;
  raw_db writer{s.path};
  writer.exec("BEGIN IMMEDIATE; UPDATE journal_meta SET value = value WHERE key = 'folded_position'");
  CHECK(positions_in(jsonl_of(tool("events " + s.path + " --jsonl"))).size() == 6);
  CHECK(tool("verify " + s.path).exit_code == 0);
  writer.exec("COMMIT");
}

TEST_CASE("interlock-journal: usage errors exit 2, --help on every subcommand", "[tool][cli]") {
  sample s;
  for (const auto& args : {std::string{""}, std::string{"upgrayedd x.db"}, std::string{"events"},
                           "events " + s.path + " --json --jsonl", "events " + s.path + " --since yesterday",
                           "events " + s.path + " Account", "tail " + s.path + " --interval-ms 0"}) {
    const auto r = tool(args, true);
    INFO(args << "\n" << text_of(r));
    CHECK(r.exit_code == 2);
  }
  CHECK_THAT(text_of(tool("events " + s.path + " --since yesterday", true)),
             Contains("--since: 'yesterday' is not an ISO-8601 time"));
  const auto top = tool("--help");
  CHECK(top.exit_code == 0);
  for (const std::string sub :
       {"streams", "events", "tail", "stats", "verify", "export", "import", "projections", "upgrade"}) {
    INFO(sub);
    CHECK_THAT(text_of(top), Contains(sub));
    const auto help = tool(sub + " --help");
    CHECK(help.exit_code == 0);
    CHECK_THAT(text_of(help), Contains("interlock-journal " + sub) && Contains("--help"));
  }
  CHECK_THAT(text_of(tool("events --help")), Contains("--aggregate-type") && Contains("--correlation") &&
                                                  Contains("--jsonl") && Contains("--since"));
  CHECK_THAT(text_of(tool("tail --help")), Contains("--follow"));
}
