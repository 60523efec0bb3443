// A PostgreSQL server crash under load: the test bank dispatches deposits from
// several threads while the test stops the server at once (pg_ctl -m
// immediate: what a crash of the server leaves), waits, and starts it again on
// the same data (it recovers from its WAL). Every dispatch must get an answer
// in time (its receipt, or a storage error naming the server), no acknowledged
// deposit may be lost, positions and versions stay gapless, and the same
// application takes new commands and answers queries once the server is back:
// the journal's connections reconnect and the aggregates reload.
//
// The server is a cluster of this test's own (the fixture's is shared with
// other tests running at the same time), started with --durable (fsync and
// synchronous_commit on), so that a COMMIT the server answered survives its
// crash.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/postgres_journal.hpp>

#include "bank_app.hpp"
#include "journal_test_support.hpp"

using namespace std::chrono_literals;

namespace {

// The cluster script, found from this file (CMake compiles sources by their
// absolute path): tests/../scripts/.
const std::string cluster_script =
    (std::filesystem::path{__FILE__}.parent_path().parent_path() / "scripts" / "postgres-test-cluster.sh").string();

// A throwaway cluster in a directory of its own (scripts/postgres-test-cluster.sh),
// stopped and removed at the end.
class own_cluster {
 public:
  own_cluster() {
    INFO(cluster_script);
    REQUIRE(std::filesystem::exists(cluster_script));
    std::string pattern = "/tmp/interlock-pgcrash-XXXXXX";  // short: the socket path is limited
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    REQUIRE(script("start", " --durable") == 0);
    std::ifstream in{dir_ + "/url"};
    REQUIRE(std::getline(in, url_));
  }
  ~own_cluster() {
    script("stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  own_cluster(const own_cluster&) = delete;
  own_cluster& operator=(const own_cluster&) = delete;

  const std::string& url() const { return url_; }
  /// The script's exit code for `action` on this cluster.
  int script(const std::string& action, const std::string& extra = "") const {
    const auto cmd = cluster_script + " " + action + " " + dir_ + extra +
                     " >>" + dir_ + "/script.log 2>&1";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::string dir_;
  std::string url_;
};

// One dispatch's answer.
struct answer {
  std::string account, tag;
  bool ok = false;
  std::uint64_t version = 0, position = 0;
  std::int64_t balance = 0;
  std::string error;  // describe() of the error
  bool storage = false;
};

testbank::Deposit deposit(const std::string& tag) {
  testbank::Deposit d;
  d.amount = 1;
  d.tag = tag;
  return d;
}

std::string tag_of(const interlock::stored_event& e) {
  auto payload = nlohmann::json::parse(e.payload, nullptr, false);
  return payload.is_object() ? payload.value("tag", std::string{}) : std::string{};
}

}  // namespace

TEST_CASE("postgres server restart: a server crash under load loses no acknowledged command, the application goes on",
          "[postgres][restart]") {
  own_cluster cluster;
  const std::string schema = "bank";
  constexpr int accounts = 8;
  constexpr int threads = 4;
  testing_support::actor_env env;
  auto app = testing_support::start_bank_on_postgres(env.sys, cluster.url(), schema);
  REQUIRE(app);
  for (int a = 0; a < accounts; ++a) REQUIRE(app->dispatch("acc-" + std::to_string(a), testbank::Open{"owner"}));

  // The load: each thread deposits into random accounts until told to stop.
  // Every dispatch is bounded (its timeout); a hang shows as errc::timeout.
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<answer> answers;
  std::vector<std::thread> load;
  for (int t = 0; t < threads; ++t)
    load.emplace_back([&, t] {
      std::mt19937 rng{static_cast<unsigned>(t)};
      interlock::dispatch_options opts;
      opts.timeout = 20s;
      for (int n = 0; !stop.load(); ++n) {
        answer a;
        a.account = "acc-" + std::to_string(rng() % accounts);
        a.tag = "t" + std::to_string(t) + "-" + std::to_string(n);
        auto r = app->dispatch(a.account, deposit(a.tag), opts);
        if (r) {
          a.ok = true;
          a.version = r->version;
          a.position = r->position;
          a.balance = r->value;
        } else {
          a.error = interlock::describe(r.error());
          a.storage = interlock::is(r.error(), interlock::errc::storage);
          std::this_thread::sleep_for(5ms);  // a client's pause before its next try
        }
        std::lock_guard<std::mutex> lock{mutex};
        answers.push_back(std::move(a));
      }
    });
  const auto answered = [&] {
    std::lock_guard<std::mutex> lock{mutex};
    return answers.size();
  };
  std::this_thread::sleep_for(1s);
  const auto before_crash = answered();
  REQUIRE(cluster.script("crash") == 0);
  std::this_thread::sleep_for(1500ms);
  const auto while_down = answered();
  REQUIRE(cluster.script("restart") == 0);
  std::this_thread::sleep_for(3s);
  stop = true;
  for (auto& t : load) t.join();
  INFO(before_crash << " answers before the crash, " << while_down - before_crash << " while the server was down, "
                    << answers.size() - while_down << " after its restart");

  // Every answer is a receipt or a storage error naming the server.
  std::size_t ok = 0, failed = 0;
  std::map<std::string, std::size_t> other_errors;
  for (const auto& a : answers) {
    if (a.ok) ++ok;
    else if (a.storage && a.error.find("PostgreSQL server") != std::string::npos) ++failed;
    else ++other_errors[a.error];
  }
  INFO(ok << " acknowledged, " << failed << " storage errors");
  for (const auto& [error, count] : other_errors) UNSCOPED_INFO(count << " x " << error);
  CHECK(other_errors.empty());
  CHECK(failed > 0);  // the crash was seen
  CHECK(ok > before_crash / 2);
  // After the restart, the load's own commands succeed again.
  bool ok_after_restart = false;
  for (auto i = while_down; i < answers.size(); ++i) ok_after_restart = ok_after_restart || answers[i].ok;
  CHECK(ok_after_restart);

  // The same application: a new deposit to every account lands right after
  // that stream's last event, on the state the stream holds.
  auto j = journal_testing::value_of(interlock::open_postgres_journal({cluster.url(), schema}));
  for (int a = 0; a < accounts; ++a) {
    const auto id = "acc-" + std::to_string(a);
    const auto version = journal_testing::value_of(j->stream_version("Account", id));
    auto r = app->dispatch(id, deposit("after-" + id));
    INFO(id << (r ? std::string{} : ": " + interlock::describe(r.error())));
    REQUIRE(r);
    CHECK(r->version == version + 1);
    CHECK(r->value == static_cast<std::int64_t>(version));  // one Opened, then deposits of 1
  }
  // The projections caught up with all of it.
  const auto last = journal_testing::value_of(j->last_position());
  interlock::query_options after_all;
  after_all.after = last;
  after_all.timeout = 20s;
  auto totals = app->query(testbank::GetTotals{}, after_all);
  INFO((totals ? std::string{} : interlock::describe(totals.error())));
  REQUIRE(totals);

  // The log: positions 1..last gapless; each stream's versions gapless; every
  // acknowledged deposit where its receipt says; balances as the projection has them.
  const auto events = journal_testing::value_of(j->read_all(1, 10'000'000));
  REQUIRE(events.size() == last);
  std::map<std::string, std::uint64_t> versions;
  std::map<std::uint64_t, const interlock::stored_event*> at;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    REQUIRE(e.position == i + 1);
    INFO(e.stream_name() << " @" << e.position);
    CHECK(e.version == ++versions[e.aggregate_id]);
    at[e.position] = &e;
  }
  std::size_t lost = 0;
  for (const auto& a : answers) {
    if (!a.ok) continue;
    auto it = at.find(a.position);
    const bool there = it != at.end() && it->second->aggregate_id == a.account && it->second->version == a.version &&
                       tag_of(*it->second) == a.tag;
    if (!there) {
      ++lost;
      UNSCOPED_INFO("acknowledged " << a.tag << " (" << a.account << " v" << a.version << " @" << a.position
                                    << ") is not there");
    }
    CHECK(a.balance == static_cast<std::int64_t>(a.version) - 1);
  }
  CHECK(lost == 0);
  for (const auto& [id, version] : versions) CHECK(totals->at(id) == static_cast<std::int64_t>(version) - 1);
}
