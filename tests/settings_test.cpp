// The runtime's settings through CAF's configuration: the INI file, the
// command line, their precedence and their errors (config/README.md).
#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_option_set.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/runtime/settings.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bank_domain.hpp"
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

// The options CAF knows after add_options, for the help text.
struct probe_config : caf::actor_system_config {
  using caf::actor_system_config::custom_options_;
};

// cfg.parse(args, ini) as a program does, then settings_from: the settings,
// or the error in the words a user sees.
caf::expected<runtime_settings> load(const std::string& ini, std::vector<std::string> args = {}) {
  caf::actor_system_config cfg;
  interlock::add_options(cfg);
  std::istringstream in{ini};
  if (auto err = cfg.parse(args, in))
    return interlock::make_error(interlock::errc::invalid_argument, interlock::describe_config_error(err, cfg));
  return interlock::settings_from(cfg);
}

runtime_settings loaded(const std::string& ini, std::vector<std::string> args = {}) {
  auto s = load(ini, std::move(args));
  INFO((s ? std::string{} : interlock::describe(s.error())));
  REQUIRE(s);
  return *s;
}

std::string error_of(const std::string& ini, std::vector<std::string> args = {}) {
  auto s = load(ini, std::move(args));
  REQUIRE(!s);
  CHECK(interlock::is(s.error(), interlock::errc::invalid_argument));
  return interlock::message_of(s.error());
}

std::string journal(const std::string& lines) { return "[interlock.journal]\n" + lines + "\n"; }
std::string aggregates(const std::string& lines) { return "[interlock.aggregates]\n" + lines + "\n"; }

// "section.key" -> the value text, from an INI file of the simple shape the
// example has (sections, key = value, ';' comments).
std::map<std::string, std::string> ini_values(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in{text};
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ';') continue;
    if (line[0] == '[') {
      section = line.substr(std::string{"[interlock."}.size(), line.find(']') - std::string{"[interlock."}.size());
      continue;
    }
    auto eq = line.find(" = ");
    REQUIRE(eq != std::string::npos);
    out[section + "." + line.substr(0, eq)] = line.substr(eq + 3);
  }
  return out;
}

}  // namespace

TEST_CASE("the example config/interlock.ini sets every option to its default", "[settings]") {
  auto text = slurp(config_dir() / "interlock.ini");
  CHECK(loaded(text) == runtime_settings{});
  // Every option, registered with its default in the help text: the example
  // holds each option that add_options registers.
  probe_config cfg;
  interlock::add_options(cfg);
  auto values = ini_values(text);
  std::size_t registered = 0;
  for (auto& opt : cfg.custom_options_)
    registered += std::string(opt.category().begin(), opt.category().end()).rfind("interlock.", 0) == 0 ? 1 : 0;
  CHECK(values.size() == registered);
  for (auto& [key, value] : values) {
    INFO(key);
    auto dot = key.find('.');
    auto opt = cfg.custom_options_.qualified_name_lookup("interlock." + key.substr(0, dot), key.substr(dot + 1));
    REQUIRE(opt != nullptr);
    CHECK(std::string(opt->description().begin(), opt->description().end()).ends_with("(default: " + value + ")"));
  }
}

TEST_CASE("config/README.md lists every option with its default", "[settings]") {
  auto readme = slurp(config_dir() / "README.md");
  for (auto& [key, value] : ini_values(slurp(config_dir() / "interlock.ini"))) {
    INFO(key);
    CHECK(readme.find("| `" + key + "` | `" + value + "` |") != std::string::npos);
  }
}

TEST_CASE("settings: every option off its default, from the INI file and from the command line", "[settings]") {
  runtime_settings want;
  want.database_path = "/var/lib/interlock/x #1.db";
  want.synchronous = sync_mode::normal;
  want.in_memory = true;
  want.postgres_url = "postgresql://app@db.example:5433/events?sslmode=require";
  want.postgres_schema = "bank_2";
  want.category_copies = true;
  want.max_batch = 7;
  want.group_commit_wait = 250us;
  want.read_batch = 9;
  want.journal_timeout = 1500ms;
  want.follow_poll = 0ms;
  want.client_window = 11;
  want.snapshot_every = 100;
  want.snapshot_keep = 3;
  want.passivate_after = 2min;
  want.max_live_aggregates = 0;
  want.conflict_retries = 5;
  want.read_store_in_memory = true;
  want.read_store_postgres_schema = "bank_2_reads";
  want.log_level = "debug";
  auto ini = "; every option\n"
             "[interlock.journal]\n"
             "database_path = \"/var/lib/interlock/x #1.db\" ; a comment\n"
             "synchronous = \"normal\"\n"
             "in_memory = true\n"
             "postgres_url = \"postgresql://app@db.example:5433/events?sslmode=require\"\n"
             "postgres_schema = \"bank_2\"\n"
             "category_copies = true\n"
             "max_batch = 7\n"
             "group_commit_wait = 250us\n"
             "read_batch = 9\n"
             "timeout = 1500ms\n"
             "follow_poll = 0ms\n"
             "[interlock.client]\n"
             "window = 11\n"
             "[interlock.aggregates]\n"
             "snapshot_every = 100\n"
             "snapshot_keep = 3\n"
             "passivate_after = 2min\n"
             "max_live = 0\n"
             "conflict_retries = 5\n"
             "[interlock.read_side]\n"
             "in_memory = true\n"
             "postgres_schema = \"bank_2_reads\"\n"
             "[interlock.log]\n"
             "level = \"debug\"\n";
  CHECK(loaded(ini) == want);
  CHECK(loaded("", {"--interlock.journal.database_path=/var/lib/interlock/x #1.db",
                    "--interlock.journal.synchronous=normal", "--interlock.journal.in_memory=true",
                    "--interlock.journal.postgres_url=postgresql://app@db.example:5433/events?sslmode=require",
                    "--interlock.journal.postgres_schema=bank_2",
                    "--interlock.journal.category_copies=true",
                    "--interlock.journal.max_batch=7", "--interlock.journal.group_commit_wait=250us",
                    "--interlock.journal.read_batch=9", "--interlock.journal.timeout=1500ms",
                    "--interlock.journal.follow_poll=0ms",
                    "--interlock.client.window=11", "--interlock.aggregates.snapshot_every=100",
                    "--interlock.aggregates.snapshot_keep=3", "--interlock.aggregates.passivate_after=2min",
                    "--interlock.aggregates.max_live=0", "--interlock.aggregates.conflict_retries=5",
                    "--interlock.read_side.in_memory=true", "--interlock.read_side.postgres_schema=bank_2_reads",
                    "--interlock.log.level=debug"}) == want);
}

TEST_CASE("settings: the command line beats the INI file, keys it leaves out keep the file's", "[settings]") {
  auto s = loaded(journal("max_batch = 3\nread_batch = 5"), {"--interlock.journal.max_batch=9"});
  CHECK(s.max_batch == 9);
  CHECK(s.read_batch == 5);
  CHECK(s.client_window == runtime_settings{}.client_window);
  // A base (the builder's, a sample's default file) is the lowest layer.
  caf::actor_system_config cfg;
  interlock::add_options(cfg);
  std::istringstream in{journal("max_batch = 3")};
  REQUIRE(!cfg.parse({}, in));
  runtime_settings base;
  base.database_path = "base.db";
  base.read_batch = 77;
  auto s2 = interlock::settings_from(cfg, base);
  REQUIRE(s2);
  CHECK(s2->database_path == "base.db");
  CHECK(s2->read_batch == 77);
  CHECK(s2->max_batch == 3);
}

TEST_CASE("settings: values CAF types differently are read the same", "[settings]") {
  CHECK(loaded(journal("synchronous = 'extra'")).synchronous == sync_mode::extra);  // a CAF atom
  CHECK(loaded(journal("in_memory = false")).in_memory == false);
  CHECK(loaded(journal("group_commit_wait = 2ms")).group_commit_wait == 2000us);
  CHECK(loaded(journal("group_commit_wait = 3000ns")).group_commit_wait == 3us);
  CHECK(loaded(aggregates("passivate_after = 1h")).passivate_after == 60min);
  CHECK(loaded(aggregates("passivate_after = 0ms")).passivate_after == 0ms);
  CHECK(loaded(journal("timeout = 2s")).journal_timeout == 2000ms);
  CHECK(loaded("", {"--interlock.aggregates.passivate_after=90s"}).passivate_after == 90s);
  CHECK(loaded("[interlock.log]\nlevel = \"\"\n").log_level.empty());
}

TEST_CASE("settings: unknown keys and sections name the key and the nearest one", "[settings]") {
  CHECK(error_of(journal("max_btch = 5")) ==
        "setting interlock.journal.max_btch: unknown key (did you mean interlock.journal.max_batch?)");
  CHECK(error_of("[interlock.jurnal]\nmax_batch = 5\n") ==
        "setting interlock.jurnal.max_batch: unknown key (did you mean interlock.journal.max_batch?)");
  CHECK(error_of("[interlock.client]\nmax_batch = 5\n") ==
        "setting interlock.client.max_batch: unknown key (did you mean interlock.journal.max_batch?)");
  CHECK(error_of("[interlock.x]\ny = 1\n") == "setting interlock.x.y: unknown key");
  // On the command line CAF refuses it first; its error names the option.
  CHECK(error_of("", {"--interlock.journal.max_btch=5"}) ==
        "command line: unknown option --interlock.journal.max_btch (did you mean interlock.journal.max_batch?)");
  CHECK(error_of("", {"--frobnicate"}) == "command line: unknown option --frobnicate (--help, --long-help list them)");
}

TEST_CASE("settings: bad numbers name the key, the value and the range", "[settings]") {
  CHECK(error_of(journal("max_batch = 0")) ==
        "setting interlock.journal.max_batch: bad value '0': expected a whole number >= 1");
  CHECK(error_of(journal("max_batch = -5")) ==
        "setting interlock.journal.max_batch: bad value '-5': expected a whole number >= 1");
  CHECK(error_of("", {"--interlock.journal.max_batch=12abc"}) ==
        "setting interlock.journal.max_batch: bad value '12abc': expected a whole number >= 1");
  CHECK(error_of("", {"--interlock.aggregates.snapshot_every=99999999999999999999"}) ==
        "setting interlock.aggregates.snapshot_every: bad value '99999999999999999999': too large (at most "
        "18446744073709551615)");
  CHECK(error_of(journal("max_batch = 1.5")).starts_with("setting interlock.journal.max_batch: bad value '1.5"));
  CHECK(error_of(journal("max_batch = [1, 2]")) ==
        "setting interlock.journal.max_batch: expected whole number >= 1, got [1, 2]");
  CHECK(error_of(journal("max_batch = \"lots\"")) ==
        "setting interlock.journal.max_batch: bad value 'lots': expected a whole number >= 1");
}

TEST_CASE("settings: bad durations say what a duration looks like", "[settings]") {
  auto expected = "expected a whole number with a unit: us, ms, s, min, h";
  CHECK(error_of(journal("timeout = 30")) == std::string{"setting interlock.journal.timeout: bad value '30': "} + expected);
  CHECK(error_of("", {"--interlock.journal.timeout=5 parsecs"}) ==
        std::string{"setting interlock.journal.timeout: bad value '5 parsecs': "} + expected);
  CHECK(error_of(journal("timeout = 0ms")) == "setting interlock.journal.timeout: bad value '0ns': expected a duration > 0");
  CHECK(error_of(journal("timeout = 1500us")) ==
        "setting interlock.journal.timeout: bad value '1500us': not a whole number of milliseconds");
  CHECK(error_of("", {"--interlock.journal.group_commit_wait=1500ns"}) ==
        "setting interlock.journal.group_commit_wait: bad value '1500ns': not a whole number of microseconds");
}

TEST_CASE("settings: bad choices list the allowed values", "[settings]") {
  CHECK(error_of(journal("synchronous = \"fast\"")) ==
        "setting interlock.journal.synchronous: bad value 'fast': expected one of off, normal, full, extra");
  CHECK(error_of("", {"--interlock.log.level=loud"}) ==
        "setting interlock.log.level: bad value 'loud': expected one of quiet, error, warning, info, debug, or \"\"");
  CHECK(error_of(journal("in_memory = 1")) == "setting interlock.journal.in_memory: bad value '1': expected true or false");
  CHECK(error_of("", {"--interlock.read_side.postgres_schema=Bank-Reads"}) ==
        "setting interlock.read_side.postgres_schema: bad value 'Bank-Reads': expected a lowercase SQL identifier "
        "(a-z, 0-9, _; at most 63 bytes), or \"\"");
}

TEST_CASE("settings: an empty database path is an error unless in memory", "[settings]") {
  CHECK(error_of(journal("database_path = \"\"")) ==
        "setting interlock.journal.database_path: empty: give a file, or set interlock.journal.in_memory = true");
  CHECK(loaded(journal("database_path = \"\"\nin_memory = true")).in_memory);
  CHECK(loaded(journal("database_path = \"\"\npostgres_url = \"postgresql:///x\"")).postgres_url == "postgresql:///x");
  CHECK(error_of(journal("postgres_schema = \"Bad-Name\"")) ==
        "setting interlock.journal.postgres_schema: bad value 'Bad-Name': expected a lowercase SQL identifier (a-z, 0-9, "
        "_; at most 63 bytes)");
}

TEST_CASE("settings: CAF's own parse errors in one line naming the file, line or option", "[settings]") {
  CHECK(error_of(journal("synchronous = normal")) ==
        "caf-application.ini:2:16: unexpected_character (CAF's INI format: strings in quotes, comments after ';')");
  CHECK(error_of("", {"--interlock.journal.max_batch"}) ==
        "command line: --interlock.journal.max_batch needs a value (--interlock.journal.max_batch=VALUE)");
  temp_dir dir;
  auto missing = dir.file("no-such.ini");
  caf::actor_system_config cfg;
  interlock::add_options(cfg);
  auto err = cfg.parse({"--config-file=" + missing});
  REQUIRE(err);
  CHECK(interlock::describe_config_error(err, cfg) == "cannot open config file " + missing);
}

TEST_CASE("application_builder{sys} takes its settings from the system's config", "[settings]") {
  temp_dir dir;
  auto db = dir.file("from-ini.db");
  caf::actor_system_config cfg;
  interlock::add_options(cfg);
  std::istringstream in{journal("database_path = \"" + db + "\"\nmax_batch = 5")};
  REQUIRE(!cfg.parse({"--interlock.aggregates.snapshot_every=3"}, in));
  caf::actor_system sys{cfg};

  interlock::application_builder builder{sys};
  CHECK(builder.settings().database_path == db);
  CHECK(builder.settings().max_batch == 5);
  CHECK(builder.settings().snapshot_every == 3);
  auto app = builder.aggregate<testbank::Account>().build();
  REQUIRE(app);
  CHECK(app->dispatch("acc", testbank::Open{"Ann"}));
  CHECK(std::filesystem::exists(db));

  // The builder's methods come last.
  interlock::application_builder in_code{sys};
  in_code.in_memory();
  CHECK(in_code.settings().in_memory);
  CHECK(in_code.settings().max_batch == 5);
  in_code.sqlite("code.db");
  CHECK(in_code.settings().database_path == "code.db");
}

TEST_CASE("application_builder{sys} refuses to build with a bad setting in the config", "[settings]") {
  caf::actor_system_config cfg;
  interlock::add_options(cfg);
  std::istringstream in{journal("max_batch = 0\nin_memory = true")};
  REQUIRE(!cfg.parse({}, in));
  caf::actor_system sys{cfg};
  auto app = interlock::application_builder{sys}.aggregate<testbank::Account>().build();
  REQUIRE(!app);
  CHECK(interlock::message_of(app.error()) ==
        "setting interlock.journal.max_batch: bad value '0': expected a whole number >= 1");
}
