// The configuration file, the command line and their precedence (config/README.md).
#include <catch2/catch.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/runtime/config.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "test_support.hpp"

using interlock::runtime_settings;
using interlock::sync_mode;
using namespace std::chrono_literals;
using testing_support::temp_dir;

namespace {

// The repository's config/ folder, found from this file so that the test reads
// the very example users copy.
std::filesystem::path config_dir() { return std::filesystem::path{__FILE__}.parent_path().parent_path() / "config"; }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p};
  REQUIRE(in);
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out{path};
  out << text;
}

// Field by field, so a failure names the field.
void check_same(const runtime_settings& a, const runtime_settings& b) {
  CHECK(a.database_path == b.database_path);
  CHECK(a.synchronous == b.synchronous);
  CHECK(a.in_memory == b.in_memory);
  CHECK(a.max_batch == b.max_batch);
  CHECK(a.group_commit_wait == b.group_commit_wait);
  CHECK(a.read_batch == b.read_batch);
  CHECK(a.journal_timeout == b.journal_timeout);
  CHECK(a.client_window == b.client_window);
  CHECK(a.snapshot_every == b.snapshot_every);
  CHECK(a.snapshot_keep == b.snapshot_keep);
  CHECK(a.passivate_after == b.passivate_after);
  CHECK(a.max_live_aggregates == b.max_live_aggregates);
  CHECK(a.log_level == b.log_level);
}

// A runtime_settings with every field off its default.
runtime_settings non_default() {
  runtime_settings s;
  s.database_path = "/var/lib/interlock/x #1.db";
  s.synchronous = sync_mode::normal;
  s.in_memory = true;
  s.max_batch = 7;
  s.group_commit_wait = 250us;
  s.read_batch = 9;
  s.journal_timeout = 1500ms;
  s.client_window = 11;
  s.snapshot_every = 100;
  s.snapshot_keep = 3;
  s.passivate_after = 2min;
  s.max_live_aggregates = 0;
  s.log_level = "debug";
  return s;
}

runtime_settings parsed(const std::string& text) {
  runtime_settings s;
  auto err = interlock::apply_config_text(text, "test.conf", s);
  INFO(interlock::describe(err));
  REQUIRE(!err);
  return s;
}

// The message of the error `text` produces; it must be an invalid_argument.
std::string error_of(const std::string& text) {
  runtime_settings s;
  auto err = interlock::apply_config_text(text, "test.conf", s);
  REQUIRE(err);
  CHECK(interlock::is(err, interlock::errc::invalid_argument));
  check_same(s, runtime_settings{});  // a failed text changes nothing
  return interlock::message_of(err);
}

std::string value_error(const std::string& section, const std::string& line) {
  return error_of("# x\n[" + section + "]\n" + line + "\n");
}

struct argv_of {
  std::vector<std::string> storage;
  std::vector<const char*> ptrs;
  explicit argv_of(std::vector<std::string> args) : storage(std::move(args)) {
    for (auto& a : storage) ptrs.push_back(a.c_str());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  const char* const* argv() const { return ptrs.data(); }
};

caf::expected<std::vector<std::string>> run(std::vector<std::string> args, runtime_settings& s) {
  args.insert(args.begin(), "program");
  argv_of a{std::move(args)};
  return interlock::apply_command_line(a.argc(), a.argv(), s);
}

std::string command_line_error(std::vector<std::string> args) {
  runtime_settings s;
  auto rest = run(std::move(args), s);
  REQUIRE(!rest);
  CHECK(interlock::is(rest.error(), interlock::errc::invalid_argument));
  check_same(s, runtime_settings{});
  return interlock::message_of(rest.error());
}

}  // namespace

TEST_CASE("the example config/interlock.conf holds exactly the defaults", "[config]") {
  auto path = (config_dir() / "interlock.conf").string();
  auto loaded = interlock::load_config_file(path);
  INFO((loaded ? "" : interlock::describe(loaded.error())));
  REQUIRE(loaded);
  check_same(*loaded, runtime_settings{});
  // ... and sets every option itself, with the value the table calls the default.
  auto text = slurp(path);
  for (auto& o : interlock::config_options()) {
    auto name = std::string{o.key.substr(o.key.find('.') + 1)};
    auto section = std::string{o.key.substr(0, o.key.find('.'))};
    INFO(o.key);
    CHECK(text.find("\n[" + section + "]\n") != std::string::npos);
    const auto value = o.format(runtime_settings{});
    if (value.empty())  // not set by default: shown commented out
      CHECK(text.find("\n# " + name + " = ") != std::string::npos);
    else
      CHECK(text.find("\n" + name + " = " + value + " ") != std::string::npos);
  }
}

TEST_CASE("config/README.md lists every option with its default", "[config]") {
  auto readme = slurp(config_dir() / "README.md");
  for (auto& o : interlock::config_options()) {
    INFO(o.key);
    const auto value = o.format(runtime_settings{});
    CHECK(readme.find("| `" + std::string{o.key} + "` | " + (value.empty() ? "not set" : "`" + value + "`") + " |") !=
          std::string::npos);
  }
}

TEST_CASE("the option table covers every setting once, and its defaults parse back", "[config]") {
  auto& options = interlock::config_options();
  CHECK(options.size() == 14);  // the fields of runtime_settings
  std::set<std::string_view> keys, fields;
  for (auto& o : options) {
    INFO(o.key);
    CHECK(keys.insert(o.key).second);
    CHECK(fields.insert(o.field).second);
    CHECK(!o.doc.empty());
    CHECK(!o.accepts.empty());
    runtime_settings s = non_default();
    auto value = o.format(runtime_settings{});
    if (value.empty()) continue;  // not set by default (log.level): nothing to parse back
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
    CHECK(o.parse(value, s).empty());
    CHECK(o.format(s) == o.format(runtime_settings{}));
  }
  auto help = interlock::config_help();
  CHECK_THAT(help, Catch::Contains("journal.max_batch = 1024"));
  CHECK_THAT(help, Catch::Contains("aggregates.passivate_after = 5min"));
  CHECK_THAT(help, Catch::Contains("journal.timeout = 30s"));
  CHECK_THAT(help, Catch::Contains("journal.database_path = \"data/interlock.db\""));
}

TEST_CASE("config strings: quoted or bare, comments after values", "[config]") {
  CHECK(parsed("[journal]\ndatabase_path = data/x.db\n").database_path == "data/x.db");
  CHECK(parsed("[journal]\ndatabase_path = data/x.db   # a comment\n").database_path == "data/x.db");
  CHECK(parsed("[journal]\ndatabase_path = \"a b #1.db\"  # quoted keeps '#'\n").database_path == "a b #1.db");
  CHECK(parsed("  [ journal ]  # header comment\r\n\tdatabase_path=x.db\r\n").database_path == "x.db");
  CHECK(parsed("\xEF\xBB\xBF[journal]\ndatabase_path = x.db").database_path == "x.db");  // BOM, no final newline
  CHECK(parsed("").database_path == "data/interlock.db");
  CHECK(parsed("# only a comment\n\n").max_batch == 1024);
}

TEST_CASE("config booleans, modes and log levels", "[config]") {
  CHECK(parsed("[journal]\nin_memory = true\n").in_memory);
  CHECK(!parsed("[journal]\nin_memory = \"false\"\n").in_memory);  // any value may be quoted
  CHECK(parsed("[journal]\nsynchronous = off\n").synchronous == sync_mode::off);
  CHECK(parsed("[journal]\nsynchronous = normal\n").synchronous == sync_mode::normal);
  CHECK(parsed("[journal]\nsynchronous = full\n").synchronous == sync_mode::full);
  CHECK(parsed("[journal]\nsynchronous = extra\n").synchronous == sync_mode::extra);
  for (auto level : {"quiet", "error", "warning", "info", "debug"})
    CHECK(parsed(std::string{"[log]\nlevel = "} + level + "\n").log_level == level);
}

TEST_CASE("config numbers and durations", "[config]") {
  auto s = parsed("[journal]\nmax_batch = 1\nread_batch = 007\n[aggregates]\nsnapshot_every = 0\n"
                  "max_live = 18446744073709551615\n");
  CHECK(s.max_batch == 1);
  CHECK(s.read_batch == 7);
  CHECK(s.snapshot_every == 0);
  CHECK(s.max_live_aggregates == 18446744073709551615ull);
  // Every unit, converted to the field's own.
  CHECK(parsed("[journal]\ngroup_commit_wait = 250us\n").group_commit_wait == 250us);
  CHECK(parsed("[journal]\ngroup_commit_wait = 2ms\n").group_commit_wait == 2000us);
  CHECK(parsed("[journal]\ntimeout = 1s\n").journal_timeout == 1000ms);
  CHECK(parsed("[journal]\ntimeout = 3000us\n").journal_timeout == 3ms);
  CHECK(parsed("[aggregates]\npassivate_after = 2 min\n").passivate_after == 120'000ms);
  CHECK(parsed("[aggregates]\npassivate_after = 0ms\n").passivate_after == 0ms);
}

TEST_CASE("config structure errors name the source, the line and what is wrong", "[config]") {
  CHECK(error_of("[journal]\nmax_batch 5\n") == "test.conf:2: missing '=' in 'max_batch 5' (expected KEY = VALUE)");
  CHECK(error_of("[journal]\n = 5\n") == "test.conf:2: missing key before '='");
  CHECK(error_of("# c\nmax_batch = 5\n") == "test.conf:2: key max_batch comes before any [section] header");
  CHECK(error_of("[journal]\n[jornal]\n") ==
        "test.conf:2: unknown section [jornal] (sections: [journal], [client], [aggregates], [log], [node])");
  CHECK(error_of("[journal\n") == "test.conf:1: missing ']' in section header [journal");
  CHECK(error_of("[log] x\n") == "test.conf:1: unexpected text 'x' after the section header");
  CHECK(error_of("[journal]\ndatabase_path = \"data/x.db\n") ==
        "test.conf:2: unterminated quote in value \"data/x.db");
  CHECK(error_of("[journal]\ndatabase_path = \"a\" b\n") == "test.conf:2: unexpected text 'b' after the closing quote");
  CHECK(error_of("[journal]\nmax_batch = 5\n\n[journal]\nmax_batch = 6\n") ==
        "test.conf:5: duplicate key journal.max_batch (first set on line 2)");
}

TEST_CASE("config unknown keys are errors that name the key", "[config]") {
  CHECK(value_error("journal", "max_btch = 5") ==
        "test.conf:3: unknown key journal.max_btch (did you mean journal.max_batch?)");
  CHECK(value_error("journal", "snapshot_every = 5") ==
        "test.conf:3: unknown key journal.snapshot_every (did you mean aggregates.snapshot_every?)");
  CHECK(value_error("log", "colour = red") == "test.conf:3: unknown key log.colour");
  // [node] is a known section with no keys yet.
  CHECK(value_error("node", "port = 4242") ==
        "test.conf:3: unknown key node.port ([node] is reserved for the node settings; none exist yet)");
}

TEST_CASE("config bad numbers: negatives, overflow, trailing junk, range", "[config]") {
  auto bad = [](const std::string& v) { return value_error("journal", "max_batch = " + v); };
  CHECK(bad("abc") == "test.conf:3: bad value 'abc' for journal.max_batch: expected a whole number >= 1");
  CHECK(bad("-1") == "test.conf:3: bad value '-1' for journal.max_batch: expected a whole number >= 1");
  CHECK(bad("+1") == "test.conf:3: bad value '+1' for journal.max_batch: expected a whole number >= 1");
  CHECK(bad("12abc") == "test.conf:3: bad value '12abc' for journal.max_batch: expected a whole number >= 1");
  CHECK(bad("1.5") == "test.conf:3: bad value '1.5' for journal.max_batch: expected a whole number >= 1");
  CHECK(bad("0") == "test.conf:3: bad value '0' for journal.max_batch: expected a whole number >= 1");
  CHECK(bad("") == "test.conf:3: bad value '' for journal.max_batch: expected a whole number >= 1");
  CHECK(bad("18446744073709551616") == "test.conf:3: bad value '18446744073709551616' for journal.max_batch: "
                                       "too large (at most 18446744073709551615)");
  CHECK_THAT(value_error("journal", "read_batch = 0"), Catch::Contains("for journal.read_batch: expected a whole"));
  CHECK_THAT(value_error("client", "window = 0"), Catch::Contains("for client.window: expected a whole number >= 1"));
  CHECK_THAT(value_error("aggregates", "snapshot_keep = 0"), Catch::Contains("for aggregates.snapshot_keep"));
  CHECK_THAT(value_error("aggregates", "snapshot_every = -5"),
             Catch::Contains("'-5' for aggregates.snapshot_every: expected a whole number >= 0"));
}

TEST_CASE("config bad durations say what a duration looks like", "[config]") {
  auto bad = [](const std::string& key, const std::string& v) {
    return value_error(key.substr(0, key.find('.')), key.substr(key.find('.') + 1) + " = " + v);
  };
  auto with_unit = ": expected a whole number with a unit: us, ms, s, min";
  CHECK(bad("journal.timeout", "30") == std::string{"test.conf:3: bad value '30' for journal.timeout"} + with_unit);
  CHECK(bad("journal.timeout", "abc") == std::string{"test.conf:3: bad value 'abc' for journal.timeout"} + with_unit);
  CHECK(bad("journal.timeout", "-1s") == std::string{"test.conf:3: bad value '-1s' for journal.timeout"} + with_unit);
  CHECK(bad("journal.timeout", "1.5s") == std::string{"test.conf:3: bad value '1.5s' for journal.timeout"} + with_unit);
  CHECK(bad("journal.timeout", "5h") ==
        std::string{"test.conf:3: bad value '5h' for journal.timeout: unknown unit 'h'"} + with_unit);
  CHECK(bad("journal.timeout", "0s") == "test.conf:3: bad value '0s' for journal.timeout: expected a duration > 0");
  CHECK(bad("journal.timeout", "1500us") ==
        "test.conf:3: bad value '1500us' for journal.timeout: not a whole number of milliseconds");
  CHECK(bad("aggregates.passivate_after", "999999999999999999min") ==
        "test.conf:3: bad value '999999999999999999min' for aggregates.passivate_after: too large");
}

TEST_CASE("config bad choices list the allowed values", "[config]") {
  CHECK(value_error("journal", "synchronous = fast") ==
        "test.conf:3: bad value 'fast' for journal.synchronous: expected one of off, normal, full, extra");
  CHECK(value_error("journal", "synchronous = FULL") ==
        "test.conf:3: bad value 'FULL' for journal.synchronous: expected one of off, normal, full, extra");
  CHECK(value_error("log", "level = verbose") ==
        "test.conf:3: bad value 'verbose' for log.level: expected one of quiet, error, warning, info, debug");
  CHECK(value_error("journal", "in_memory = yes") ==
        "test.conf:3: bad value 'yes' for journal.in_memory: expected true or false");
}

TEST_CASE("config files: an empty database path is an error unless in memory", "[config]") {
  temp_dir dir;
  auto path = dir.file("x.conf");
  write(path, "[journal]\ndatabase_path = \"\"\n");
  auto loaded = interlock::load_config_file(path);
  REQUIRE(!loaded);
  CHECK(interlock::message_of(loaded.error()) ==
        path + ": journal.database_path is empty: give a file, or set journal.in_memory = true");
  write(path, "[journal]\ndatabase_path = \"\"\nin_memory = true\n");
  loaded = interlock::load_config_file(path);
  REQUIRE(loaded);
  CHECK(loaded->in_memory);
}

TEST_CASE("config files: a missing file is an error naming its path; base values survive", "[config]") {
  temp_dir dir;
  auto missing = interlock::load_config_file(dir.file("nope.conf"));
  REQUIRE(!missing);
  CHECK(interlock::message_of(missing.error()) ==
        "cannot read config file " + dir.file("nope.conf") + ": No such file or directory");
  auto path = dir.file("partial.conf");
  write(path, "[journal]\nmax_batch = 3\n");
  runtime_settings base;
  base.read_batch = 5;
  auto loaded = interlock::load_config_file(path, base);
  REQUIRE(loaded);
  CHECK(loaded->max_batch == 3);
  CHECK(loaded->read_batch == 5);  // options the file leaves out keep the base value
}

TEST_CASE("config round trip: a file with every option off its default", "[config]") {
  temp_dir dir;
  auto path = dir.file("all.conf");
  write(path,
        "[journal]\n"
        "database_path = \"/var/lib/interlock/x #1.db\"\n"
        "in_memory = true\n"
        "synchronous = normal\n"
        "max_batch = 7\n"
        "group_commit_wait = 250us\n"
        "read_batch = 9\n"
        "timeout = 1500ms\n"
        "[client]\n"
        "window = 11\n"
        "[aggregates]\n"
        "snapshot_every = 100\n"
        "snapshot_keep = 3\n"
        "passivate_after = 2min\n"
        "max_live = 0\n"
        "[log]\n"
        "level = debug\n");
  auto loaded = interlock::load_config_file(path);
  REQUIRE(loaded);
  check_same(*loaded, non_default());
  // to_config_text writes what loads back.
  write(path, interlock::to_config_text(non_default()));
  loaded = interlock::load_config_file(path);
  REQUIRE(loaded);
  check_same(*loaded, non_default());
  CHECK_THAT(interlock::to_config_text(non_default()), Catch::Contains("timeout = 1500ms\n"));
  CHECK_THAT(interlock::to_config_text(non_default()), Catch::Contains("passivate_after = 2min\n"));
}

TEST_CASE("command line: --interlock overrides the file, other arguments pass through", "[config]") {
  temp_dir dir;
  auto path = dir.file("app.conf");
  write(path, "[journal]\nmax_batch = 3\nread_batch = 4\n");
  runtime_settings s;
  // --config comes last, yet applies first: the command line beats the file.
  auto rest = run({"--verbose", "--interlock.journal.max_batch=9", "input.txt", "--interlock.log.level=debug",
                   "--config", path, "--", "--interlock.not.mine=1"},
                  s);
  INFO((rest ? "" : interlock::describe(rest.error())));
  REQUIRE(rest);
  CHECK(*rest == std::vector<std::string>{"--verbose", "input.txt", "--", "--interlock.not.mine=1"});
  CHECK(s.max_batch == 9);
  CHECK(s.read_batch == 4);
  CHECK(s.log_level == "debug");
  CHECK(s.synchronous == sync_mode::full);

  runtime_settings t;
  rest = run({"--config=" + path, "--interlock.journal.database_path=a b.db"}, t);
  REQUIRE(rest);
  CHECK(rest->empty());
  CHECK(t.max_batch == 3);
  CHECK(t.database_path == "a b.db");
}

TEST_CASE("command line errors name the option and leave the settings alone", "[config]") {
  CHECK(command_line_error({"--interlock.journal.max_btch=5"}) ==
        "command line (--interlock.journal.max_btch): unknown key journal.max_btch (did you mean journal.max_batch?)");
  CHECK(command_line_error({"--interlock.x.y=1"}) == "command line (--interlock.x.y): unknown key x.y");
  CHECK(command_line_error({"--interlock.journal.max_batch=0"}) ==
        "command line (--interlock.journal.max_batch): bad value '0' for journal.max_batch: "
        "expected a whole number >= 1");
  CHECK(command_line_error({"--interlock.journal.max_batch"}) ==
        "command line: expected --interlock.journal.max_batch=VALUE (--interlock.SECTION.KEY=VALUE)");
  CHECK(command_line_error({"--interlock.log.level=info", "--interlock.log.level=debug"}) ==
        "command line: --interlock.log.level given twice");
  CHECK(command_line_error({"--interlock.journal.database_path="}) ==
        "command line: journal.database_path is empty: give a file, or set journal.in_memory = true");
  CHECK(command_line_error({"--config"}) == "command line: --config needs a file name");
  CHECK(command_line_error({"--config="}) == "command line: --config needs a file name");
  CHECK(command_line_error({"--config=a.conf", "--config=b.conf"}) == "command line: --config given twice");
  temp_dir dir;
  auto missing = dir.file("missing.conf");
  CHECK(command_line_error({"--interlock.journal.max_batch=2", "--config=" + missing}) ==
        "cannot read config file " + missing + ": No such file or directory");
  auto bad = dir.file("bad.conf");
  write(bad, "[journal]\n\nmax_batch = lots\n");
  CHECK(command_line_error({"--config", bad}) ==
        bad + ":3: bad value 'lots' for journal.max_batch: expected a whole number >= 1");
}

TEST_CASE("precedence: the builder's methods after settings() beat the command line", "[config]") {
  runtime_settings s;
  REQUIRE(run({"--interlock.journal.database_path=cli.db", "--interlock.journal.max_batch=5"}, s));
  testing_support::actor_env env;
  interlock::application_builder builder{env.sys};
  builder.settings(s).in_memory();
  CHECK(builder.settings().in_memory);
  CHECK(builder.settings().max_batch == 5);
  builder.sqlite("code.db");
  CHECK(builder.settings().database_path == "code.db");
}
