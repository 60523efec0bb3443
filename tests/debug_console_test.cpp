// The debug console (runtime/debug.hpp) against journals written through the
// library: replay, step, check-snapshots, rebuild, their errors, and the
// banking sample's `debug` command.
#include <ctime>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <interlock/persistence/read_db.hpp>
#include <interlock/runtime/debug.hpp>
#include <interlock/runtime/interlock.hpp>

#include "process_runner.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

namespace dbg {

struct Open {
  using result_type = void;
  std::string owner;
};
struct Deposit {
  using result_type = void;
  std::int64_t amount = 0;
  std::string tag;
};
struct Opened {
  std::string owner;
};
struct Deposited {
  std::int64_t amount = 0;
  std::string tag;
};
INTERLOCK_JSON(Open, owner)
INTERLOCK_JSON(Deposit, amount, tag)
INTERLOCK_JSON(Opened, owner)
INTERLOCK_JSON(Deposited, amount, tag)

struct Wallet : interlock::aggregate<Wallet> {
  static constexpr std::uint64_t snapshot_every = 2;
  using commands = interlock::types<Open, Deposit>;
  using events = interlock::types<Opened, Deposited>;
  std::string owner;
  std::int64_t balance = 0;
  std::vector<std::string> tags;
  void handle(const Open& c) { emit(Opened{c.owner}); }
  void handle(const Deposit& c) { emit(Deposited{c.amount, c.tag}); }
  void apply(const Opened& e) { owner = e.owner; }
  void apply(const Deposited& e) {
    balance += e.amount;
    tags.push_back(e.tag);
  }
};
INTERLOCK_JSON(Wallet, owner, balance, tags)

struct Ping {
  using result_type = void;
};
struct Pinged {};
struct Opaque : interlock::aggregate<Opaque> {  // no JSON form of its state
  using commands = interlock::types<Ping>;
  using events = interlock::types<Pinged>;
  int pings = 0;
  void handle(const Ping&) { emit(Pinged{}); }
  void apply(const Pinged&) { ++pings; }
};

struct GetTotal {
  using result_type = std::int64_t;
  std::string wallet;
};
INTERLOCK_JSON(GetTotal, wallet)

struct Totals {  // in memory, with read-model snapshots
  static constexpr std::uint64_t snapshot_every = 1;
  using events = interlock::types<Deposited>;
  using queries = interlock::types<GetTotal>;
  std::map<std::string, std::int64_t> totals;
  void on(const Deposited& e, const interlock::event_envelope& env) { totals[env.aggregate_id] += e.amount; }
  std::int64_t handle(const GetTotal& q) const { return totals.count(q.wallet) ? totals.at(q.wallet) : 0; }
};
INTERLOCK_JSON(Totals, totals)

struct GetRows {
  using result_type = std::int64_t;
};
struct Ledger {  // durable: a table in the read store
  using events = interlock::types<Deposited>;
  using queries = interlock::types<GetRows>;
  void create(interlock::read_db& db) {
    db.exec("CREATE TABLE IF NOT EXISTS ledger (wallet TEXT, position INTEGER PRIMARY KEY, amount INTEGER)");
  }
  void reset(interlock::read_db& db) { db.exec("DELETE FROM ledger"); }
  void on(const Deposited& e, const interlock::event_envelope& env, interlock::read_db& db) {
    db.exec("INSERT INTO ledger VALUES (?, ?, ?)", env.aggregate_id, env.position, e.amount);
  }
  std::int64_t handle(const GetRows&, interlock::read_db& db) const {
    return db.value<std::int64_t>("SELECT count(*) FROM ledger").value_or(0);
  }
};

}  // namespace dbg

namespace {

using nlohmann::json;
using testing_support::raw_db;
using testing_support::temp_dir;

interlock::application_builder& registered(interlock::application_builder& b, const std::string& path) {
  return b.aggregate<dbg::Wallet>().aggregate<dbg::Opaque>().projection<dbg::Totals>().projection<dbg::Ledger>().sqlite(
      path);
}

// w1: opened, +10 "a", +20 "b", +5 "c" (positions 1, 2, 3, 5); w2: opened (4); o1: pinged (6).
void write_journal(const std::string& path) {
  interlock::application_builder b;
  auto app = registered(b, path).build();
  REQUIRE(app);
  REQUIRE(app->dispatch("w1", dbg::Open{"Ann"}));
  REQUIRE(app->dispatch("w1", dbg::Deposit{10, "a"}));
  REQUIRE(app->dispatch("w1", dbg::Deposit{20, "b"}));
  REQUIRE(app->dispatch("w2", dbg::Open{"Bo"}));
  REQUIRE(app->dispatch("w1", dbg::Deposit{5, "c"}));
  auto last = app->dispatch("o1", dbg::Ping{});
  REQUIRE(last);
  REQUIRE(app->query(dbg::GetRows{}, {.after = last->position}) == 3);
  REQUIRE(app->query(dbg::GetTotal{"w1"}, {.after = last->position}) == 35);
}

struct console_run {
  int status;
  std::string out;
  std::string err;
};

console_run debug(const std::string& path, std::vector<std::string> args) {
  interlock::application_builder b;
  registered(b, path);
  std::ostringstream out, err;
  int status = interlock::debug::run(b, args, out, err);
  return {status, out.str(), err.str()};
}

// "2026-12-05T08:26:24.242516Z" for microseconds since the epoch.
std::string iso(std::int64_t us) {
  std::time_t s = us / 1'000'000;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char text[64];
  auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%06lldZ", static_cast<long long>(us % 1'000'000));
  return text;
}

json without_time(json j) {
  j.erase("recorded_at");
  return j;
}

}  // namespace

TEST_CASE("debug replay: the state as JSON at the end, at a version and at a time", "[debug]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);

  auto latest = debug(path, {"replay", "Wallet/w1", "--json"});
  REQUIRE(latest.status == 0);
  CHECK(without_time(json::parse(latest.out)) ==
        json::parse(R"({"stream":"Wallet/w1","version":4,"position":5,
                        "state":{"owner":"Ann","balance":35,"tags":["a","b","c"]}})"));

  auto v2 = debug(path, {"replay", "Wallet/w1", "--to-version", "2", "--json"});
  REQUIRE(v2.status == 0);
  CHECK(without_time(json::parse(v2.out)) ==
        json::parse(R"({"stream":"Wallet/w1","version":2,"position":2,"state":{"owner":"Ann","balance":10,"tags":["a"]}})"));

  raw_db raw{path};
  auto at = raw.rows("SELECT recorded_at FROM events WHERE global_position = 3");
  REQUIRE(at.size() == 1);
  const auto when = iso(std::stoll(at[0]));
  auto timed = debug(path, {"replay", "Wallet/w1", "--at", when, "--json"});
  REQUIRE(timed.status == 0);
  CHECK(json::parse(timed.out) ==
        json::parse(R"({"stream":"Wallet/w1","version":3,"position":3,"recorded_at":")" + when +
                    R"(","state":{"owner":"Ann","balance":30,"tags":["a","b"]}})"));

  auto before = debug(path, {"replay", "Wallet/w1", "--at", "2000-01-01T00:00:00Z", "--json"});
  CHECK(json::parse(before.out) == json::parse(R"({"stream":"Wallet/w1","version":0,"position":null,
      "recorded_at":null,"state":{"owner":"","balance":0,"tags":[]}})"));

  auto text = debug(path, {"replay", "Wallet/w1", "--to-version", "1"});
  CHECK(text.out.starts_with("Wallet/w1  version 1  position 1  "));
  CHECK(text.out.ends_with("\n{\n  \"balance\": 0,\n  \"owner\": \"Ann\",\n  \"tags\": []\n}\n"));
}

TEST_CASE("debug step: each event with the change it made", "[debug]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);

  auto text = debug(path, {"step", "Wallet/w1", "--from-version", "2", "--to-version", "3"});
  REQUIRE(text.status == 0);
  std::istringstream lines{text.out};
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  REQUIRE(got.size() == 8);
  CHECK(got[0].starts_with("position 2  version 2  Deposited  "));
  CHECK(got[1] == R"(  payload {"amount":10,"tag":"a"})");
  CHECK(got[2] == "  balance: 0 -> 10");
  CHECK(got[3] == R"(  + tags[0]: "a")");
  CHECK(got[4].starts_with("position 3  version 3  Deposited  "));
  CHECK(got[6] == "  balance: 10 -> 30");
  CHECK(got[7] == R"(  + tags[1]: "b")");

  auto machine = debug(path, {"step", "Wallet/w1", "--to-version", "1", "--json"});
  REQUIRE(machine.status == 0);
  auto steps = json::parse(machine.out);
  REQUIRE(steps.size() == 1);
  steps[0].erase("recorded_at");
  CHECK(steps[0] == json::parse(R"({"position":1,"version":1,"type":"Opened","payload":{"owner":"Ann"},
      "changes":[{"op":"replace","path":"/owner","value":"Ann"}]})"));
}

TEST_CASE("debug check-snapshots: passes, then names a deliberately altered snapshot", "[debug]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);

  auto healthy = debug(path, {"check-snapshots"});
  CHECK(healthy.status == 0);
  CHECK(healthy.out == "ok: 2 snapshots: 2 match the replay, 0 differ, 0 not checked\n");  // w1 at 2 and 4

  raw_db{path}.exec("UPDATE snapshots SET state = json_set(state, '$.balance', 999, '$.tags[1]', 'x') "
                    "WHERE version = 2");
  auto bad = debug(path, {"check-snapshots", "--type", "Wallet"});
  CHECK(bad.status == 1);
  CHECK(bad.out == "MISMATCH  Wallet/w1  version 2: the snapshot differs from the replay (replay -> snapshot):\n"
                   "    balance: 10 -> 999\n"
                   "    + tags[1]: \"x\"\n"
                   "FAILED: 2 snapshots: 1 match the replay, 1 differ, 0 not checked\n");

  raw_db{path}.exec("UPDATE snapshots SET state = '{\"owner\": 5}' WHERE version = 2");
  auto undecodable = debug(path, {"check-snapshots"});
  CHECK(undecodable.status == 1);
  CHECK_THAT(undecodable.out, Catch::Contains("MISMATCH  Wallet/w1  version 2: it does not decode"));
}

TEST_CASE("debug rebuild: no difference for a healthy read model, the rows after a table was altered", "[debug]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);

  auto healthy = debug(path, {"rebuild", "Ledger"});
  CHECK(healthy.status == 0);
  CHECK(healthy.out.ends_with("  table ledger (wallet, position, amount): 3 rows rebuilt, 3 live\nno differences\n"));

  raw_db{dir.file("j.read.db")}.exec("UPDATE ledger SET amount = 7 WHERE position = 3");
  auto altered = debug(path, {"rebuild", "Ledger"});
  CHECK(altered.status == 1);
  CHECK_THAT(altered.out, Catch::Contains("    - live    [\"w1\",3,7]\n    + rebuilt [\"w1\",3,20]\n2 differences\n"));

  auto totals = debug(path, {"rebuild", "Totals"});
  CHECK(totals.status == 0);
  CHECK(totals.out.ends_with("no differences (stored snapshot -> rebuilt)\n"));
  raw_db{dir.file("j.read.db")}.exec(
      "UPDATE projection_checkpoints SET state = json_set(state, '$.totals.w1', 1) WHERE projection = 'Totals'");
  auto drifted = debug(path, {"rebuild", "Totals"});
  CHECK(drifted.status == 1);
  CHECK_THAT(drifted.out, Catch::Contains("  totals.w1: 1 -> 35\n1 differences"));
}

TEST_CASE("debug: errors name what is unknown (exit 1), usage errors exit 2", "[debug]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);

  auto stream = debug(path, {"replay", "Wallet/nobody"});
  CHECK(stream.status == 1);
  CHECK(stream.err == "debug: no stream Wallet/nobody in journal '" + path + "'\n");
  auto type = debug(path, {"step", "Purse/w1"});
  CHECK(type.status == 1);
  CHECK(type.err == "debug: no aggregate type 'Purse' is registered (registered: Wallet, Opaque)\n");
  auto projection = debug(path, {"rebuild", "Balances"});
  CHECK(projection.status == 1);
  CHECK(projection.err == "debug: no projection 'Balances' is registered (registered: Totals, Ledger)\n");
  auto opaque = debug(path, {"replay", "Opaque/o1"});
  CHECK(opaque.status == 1);
  CHECK_THAT(opaque.err, Catch::Contains("Opaque has no JSON view of its state: add INTERLOCK_JSON(Opaque"));
  auto missing = debug(dir.file("none.db"), {"replay", "Wallet/w1"});
  CHECK(missing.status == 1);
  CHECK(missing.err == "debug: no journal file at '" + dir.file("none.db") + "'\n");

  CHECK(debug(path, {}).status == 2);
  CHECK(debug(path, {"travel"}).status == 2);
  CHECK(debug(path, {"replay", "w1"}).status == 2);
  CHECK(debug(path, {"replay", "Wallet/w1", "--to-version", "2", "--at", "2020-01-01"}).status == 2);
  CHECK(debug(path, {"replay", "Wallet/w1", "--at", "yesterday"}).status == 2);
  auto help = debug(path, {"step", "--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--from-version"));
}

#ifdef INTERLOCK_SAMPLE_BANKING
TEST_CASE("debug: the banking sample's `debug replay`", "[debug]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  const std::string banking = INTERLOCK_SAMPLE_BANKING;
  REQUIRE(testing_support::run_program(banking + " --db " + db + " > /dev/null").exit_code == 0);
  auto alice = raw_db{db}.rows("SELECT aggregate_id FROM streams ORDER BY first_position LIMIT 1");
  REQUIRE(alice.size() == 1);
  auto run = testing_support::run_program(banking + " --db " + db + " debug replay BankAccount/" + alice[0] + " --json");
  REQUIRE(run.exit_code == 0);
  std::string text;
  for (auto& line : run.lines) text += line + "\n";
  auto out = json::parse(text);
  CHECK(out["version"] == 4);
  CHECK(out["state"] == json::parse(R"({"owner_name":"Alice","balance":198456,"opened":true,"closed":false})"));
  CHECK(testing_support::run_program(banking + " --db " + db + " debug replay BankAccount/nobody 2>/dev/null").exit_code == 1);
}
#endif
