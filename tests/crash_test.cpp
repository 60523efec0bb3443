// Crash durability: a writer process (tests/programs/bank_writer.cpp) deposits
// as fast as it can and prints every acknowledged command; the test kills it
// with SIGKILL at a random moment, then checks on the same SQLite file that
// every acknowledged command's event is there, that stream versions and global
// positions are gapless, and that a new process continues every stream.
//
// All rounds share one file, so every round after the first restarts on a file
// that has already been through crashes and restarts.
//
// Reproduce a failure's parameters with INTERLOCK_CRASH_SEED=<seed> (printed
// on failure); the exact kill moment depends on timing and cannot be replayed.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <interlock/persistence/sqlite_journal.hpp>

#include "bank_app.hpp"

extern char** environ;

using namespace testbank;
using namespace testing_support;

namespace {

const std::string account_type{interlock::type_name_of<Account>()};

// -- a child process whose stdout we read line by line ------------------------

/// bank_writer started with posix_spawn, its stdout on a pipe. The destructor
/// kills and reaps it, so no child outlives a failed assertion.
class writer_process {
 public:
  explicit writer_process(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      error_ = "pipe2 failed: errno " + std::to_string(errno);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);  // the copy on fd 1 is inherited
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    fd_ = fds[0];
    if (rc != 0) {
      pid_ = -1;
      error_ = "posix_spawn " + args[0] + " failed: errno " + std::to_string(rc);
    }
  }
  ~writer_process() {
    kill9();
    wait();
    if (fd_ >= 0) ::close(fd_);
  }
  writer_process(const writer_process&) = delete;
  writer_process& operator=(const writer_process&) = delete;

  bool started() const { return pid_ > 0; }
  const std::string& error() const { return error_; }

  /// The next complete line; false at end of output (a trailing partial line,
  /// if any, goes to partial()) or when nothing arrived for `hang_guard`.
  bool next_line(std::string& line, std::chrono::milliseconds hang_guard = std::chrono::seconds{60}) {
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      if (eof_ || fd_ < 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(hang_guard.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        hung_ = true;
        return false;
      }
      char chunk[4096];
      auto n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
        partial_ = buf_;
        buf_.clear();
        continue;
      }
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  bool hung() const { return hung_; }
  const std::string& partial() const { return partial_; }

  void kill9() {
    if (pid_ > 0 && !reaped_) ::kill(pid_, SIGKILL);
  }
  /// waitpid; the raw status (-1 if there is no child).
  int wait() {
    if (pid_ <= 0) return -1;
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
  bool eof_ = false;
  bool hung_ = false;
  std::string buf_;
  std::string partial_;
  std::string error_;
};

std::string describe_status(int status) {
  if (status == -1) return "no child";
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// -- what the writer acknowledged ---------------------------------------------

/// One `ack <account> <version> <position> <balance>` line. bank_writer prints
/// acks in dispatch order, so the n-th line (0-based) is the Deposit it tagged n.
struct ack {
  std::size_t index = 0;
  std::string account;
  std::uint64_t version = 0;
  std::uint64_t position = 0;
  std::int64_t balance = 0;
};

bool parse_ack(const std::string& line, std::size_t index, ack& out) {
  std::istringstream in{line};
  std::string word;
  out.index = index;
  if (!(in >> word) || word != "ack") return false;
  if (!(in >> out.account >> out.version >> out.position >> out.balance)) return false;
  return !(in >> word);
}

// -- what the file holds ----------------------------------------------------------

struct journal_snapshot {
  std::vector<interlock::stored_event> events;                   // read_all, position order
  std::map<std::string, std::uint64_t> reported_versions;        // stream_version(), per stream seen
  std::map<std::string, std::vector<std::uint64_t>> read_back;   // read_stream() positions, per stream

  /// Events per Account stream, by account id.
  std::map<std::string, std::uint64_t> lengths() const {
    std::map<std::string, std::uint64_t> out;
    for (auto& e : events)
      if (e.aggregate_type == account_type) ++out[e.aggregate_id];
    return out;
  }
};

journal_snapshot read_journal(const std::string& db) {
  journal_snapshot s;
  auto j = interlock::open_sqlite_journal({db});
  if (!j) FAIL("cannot open " << db << ": " << interlock::describe(j.error()));
  auto all = (*j)->read_all(1, SIZE_MAX);
  if (!all) FAIL("read_all: " << interlock::describe(all.error()));
  s.events = std::move(*all);
  std::map<std::string, std::pair<std::string, std::string>> streams;
  for (auto& e : s.events) streams.emplace(e.stream_name(), std::make_pair(e.aggregate_type, e.aggregate_id));
  for (auto& [name, key] : streams) {
    auto v = (*j)->stream_version(key.first, key.second);
    if (!v) FAIL("stream_version " << name << ": " << interlock::describe(v.error()));
    s.reported_versions[name] = *v;
    auto evs = (*j)->read_stream(key.first, key.second, 1, SIZE_MAX);
    if (!evs) FAIL("read_stream " << name << ": " << interlock::describe(evs.error()));
    for (auto& e : *evs) s.read_back[name].push_back(e.position);
  }
  return s;
}

// -- the verifier -----------------------------------------------------------------

/// Every problem with `s` and `acks`, one line each (capped); empty when all is
/// well. `before` holds each account's stream length when the writer that
/// produced `acks` started: it opens missing accounts (version 1) and then
/// continues each stream, so its k-th ack (1-based) for account a must have
/// version max(before[a], 1) + k.
std::vector<std::string> verify(const journal_snapshot& s, const std::vector<ack>& acks,
                                 const std::map<std::string, std::uint64_t>& before) {
  std::vector<std::string> problems;
  auto problem = [&](std::string p) {
    if (problems.size() < 30) problems.push_back(std::move(p));
  };
  const auto n = s.events.size();

  // Global positions 1..N, gapless, in order.
  for (std::size_t i = 0; i < n; ++i)
    if (s.events[i].position != i + 1) {
      problem("position gap: event #" + std::to_string(i + 1) + " has position " +
              std::to_string(s.events[i].position));
      break;
    }

  // Per stream: versions 1..n gapless in position order; Account streams are
  // Opened then Deposited(amount 1) only; balance after each version.
  std::map<std::string, std::uint64_t> next_version;
  std::map<std::string, std::vector<std::uint64_t>> positions;
  std::map<std::string, std::vector<std::int64_t>> balance_at;  // [version] -> balance
  std::map<std::uint64_t, std::size_t> by_position;
  for (std::size_t i = 0; i < n; ++i) {
    auto& e = s.events[i];
    auto name = e.stream_name();
    by_position.emplace(e.position, i);
    auto& expected = next_version.try_emplace(name, 1).first->second;
    if (e.version != expected)
      problem("version gap in " + name + ": expected version " + std::to_string(expected) + ", found " +
              std::to_string(e.version) + " at position " + std::to_string(e.position));
    expected = e.version + 1;
    positions[name].push_back(e.position);
    if (e.aggregate_type != account_type) continue;
    auto& balances = balance_at[name];
    if (balances.empty()) balances.push_back(0);  // version 0
    auto prev = balances.back();
    if (e.version == 1) {
      if (e.event_type != "Opened") problem(name + " version 1 is " + e.event_type + ", not Opened");
      balances.push_back(prev);
      continue;
    }
    auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (e.event_type != "Deposited" || payload.is_discarded() || !payload.contains("amount") ||
        payload["amount"] != 1) {
      problem(name + " version " + std::to_string(e.version) + " is not Deposited(amount 1): " + e.event_type + " " +
              e.payload);
      balances.push_back(prev);
      continue;
    }
    balances.push_back(prev + 1);
  }

  // The journal's own bookkeeping agrees with the events.
  for (auto& [name, pos] : positions) {
    auto v = s.reported_versions.find(name);
    if (v == s.reported_versions.end() || v->second != pos.size())
      problem("stream_version(" + name + ") is " +
              (v == s.reported_versions.end() ? std::string{"missing"} : std::to_string(v->second)) + ", but it has " +
              std::to_string(pos.size()) + " events");
    auto r = s.read_back.find(name);
    if (r == s.read_back.end() || r->second != pos) problem("read_stream(" + name + ") differs from read_all");
  }

  // Every acknowledged command's event is there, exactly as acknowledged.
  std::uint64_t last_acked = 0;
  std::map<std::string, std::uint64_t> acks_seen;
  for (auto& a : acks) {
    auto what = "ack #" + std::to_string(a.index) + " (" + a.account + " v" + std::to_string(a.version) + " @" +
                std::to_string(a.position) + " balance " + std::to_string(a.balance) + ")";
    last_acked = std::max(last_acked, a.position);
    auto& k = ++acks_seen[a.account];
    auto b = before.find(a.account);
    auto expected_version = std::max<std::uint64_t>(b == before.end() ? 0 : b->second, 1) + k;
    if (a.version != expected_version)
      problem(what + ": expected version " + std::to_string(expected_version) + " (ack " + std::to_string(k) +
              " for this account)");
    auto it = by_position.find(a.position);
    if (it == by_position.end()) {
      problem(what + ": no event at that position (journal holds " + std::to_string(n) + ")");
      continue;
    }
    auto& e = s.events[it->second];
    if (e.aggregate_type != account_type || e.aggregate_id != a.account) {
      problem(what + ": the event there belongs to " + e.stream_name());
      continue;
    }
    if (e.version != a.version) problem(what + ": the event there has version " + std::to_string(e.version));
    auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (e.event_type != "Deposited" || payload.is_discarded() || payload.value("tag", std::string{}) != std::to_string(a.index))
      problem(what + ": the event there is not this command's Deposited (tag " + std::to_string(a.index) + "): " +
              e.event_type + " " + e.payload);
    auto& balances = balance_at[e.stream_name()];
    if (e.version < balances.size() && balances[e.version] != a.balance)
      problem(what + ": the stream's balance at that version is " + std::to_string(balances[e.version]));
    if (a.balance != static_cast<std::int64_t>(a.version) - 1)
      problem(what + ": balance should be version - 1 (one Opened, then deposits of 1)");
  }
  if (last_acked > n)
    problem("last acknowledged position " + std::to_string(last_acked) + " > last position in the journal " +
            std::to_string(n));
  return problems;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

// -- running the writer -----------------------------------------------------------------

struct run_outcome {
  std::vector<ack> acks;
  std::vector<std::string> junk;  // lines that are not acks
  std::string partial;             // an unterminated last line (killed mid-write)
  int status = -1;
  bool hung = false;
};

std::vector<std::string> writer_args(const std::string& db, int accounts, long deposits, int window) {
  return {INTERLOCK_PROGRAM_bank_writer, "--db",     db, "--accounts", std::to_string(accounts), "--deposits",
          std::to_string(deposits),      "--window", std::to_string(window)};
}

void collect(writer_process& p, run_outcome& out, std::size_t stop_after = SIZE_MAX) {
  std::string line;
  while (out.acks.size() < stop_after && p.next_line(line)) {
    ack a;
    if (parse_ack(line, out.acks.size(), a)) out.acks.push_back(std::move(a));
    else out.junk.push_back(line);
  }
  out.hung = out.hung || p.hung();
}

/// Runs the writer until it has acknowledged `kill_after_acks` commands, waits
/// `extra_delay`, kills it with SIGKILL and keeps every ack it printed.
run_outcome run_and_kill(const std::string& db, int accounts, int window, std::size_t kill_after_acks,
                         std::chrono::microseconds extra_delay) {
  run_outcome out;
  writer_process p{writer_args(db, accounts, 0, window)};
  if (!p.started()) FAIL(p.error());
  collect(p, out, kill_after_acks);
  if (out.acks.size() == kill_after_acks) std::this_thread::sleep_for(extra_delay);
  p.kill9();
  collect(p, out);  // whatever it printed before dying was acknowledged too
  out.partial = p.partial();
  out.status = p.wait();
  return out;
}

run_outcome run_to_completion(const std::string& db, int accounts, long deposits, int window) {
  run_outcome out;
  writer_process p{writer_args(db, accounts, deposits, window)};
  if (!p.started()) FAIL(p.error());
  collect(p, out);
  out.partial = p.partial();
  out.status = p.wait();
  return out;
}

bool same_event(const interlock::stored_event& a, const interlock::stored_event& b) {
  return a.position == b.position && a.aggregate_type == b.aggregate_type && a.aggregate_id == b.aggregate_id &&
         a.version == b.version && a.event_type == b.event_type && a.payload == b.payload &&
         a.recorded_at_us == b.recorded_at_us && a.command_id == b.command_id;
}

std::uint64_t crash_seed() {
  if (auto env = std::getenv("INTERLOCK_CRASH_SEED"); env && *env) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

}  // namespace

TEST_CASE("crash: SIGKILL at random moments loses no acknowledged command", "[crash]") {
  const auto seed = crash_seed();
  INFO("seed " << seed << " (rerun with INTERLOCK_CRASH_SEED=" << seed << ")");
  std::mt19937_64 rng{seed};
  auto pick = [&](long lo, long hi) { return std::uniform_int_distribution<long>{lo, hi}(rng); };

  temp_dir dir;
  const auto db = dir.file("crash.db");
  constexpr int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    const int accounts = static_cast<int>(pick(3, 12));
    const int window = static_cast<int>(pick(8, 128));
    const auto kill_after = static_cast<std::size_t>(pick(50, 3000));
    const auto delay = std::chrono::microseconds{pick(0, 20000)};
    INFO("round " << round << ": accounts " << accounts << ", window " << window << ", kill after " << kill_after
                  << " acks + " << delay.count() << " us");

    // Stream lengths before this process starts (the file is new in round 0).
    std::map<std::string, std::uint64_t> before;
    if (std::filesystem::exists(db)) before = read_journal(db).lengths();

    // 1. Write as fast as possible; SIGKILL at a random moment.
    auto crashed = run_and_kill(db, accounts, window, kill_after, delay);
    INFO("crashed writer: " << crashed.acks.size() << " acks, " << describe_status(crashed.status)
                            << (crashed.partial.empty() ? "" : ", partial last line: " + crashed.partial));
    REQUIRE_FALSE(crashed.hung);
    REQUIRE(crashed.junk.empty());
    REQUIRE(WIFSIGNALED(crashed.status));  // it was still running when killed
    REQUIRE(WTERMSIG(crashed.status) == SIGKILL);
    REQUIRE(crashed.acks.size() >= kill_after);

    // 2. On the same file: every ack is there; versions and positions gapless.
    auto after_crash = read_journal(db);
    std::uint64_t last_acked = 0;
    for (auto& a : crashed.acks) last_acked = std::max(last_acked, a.position);
    INFO("journal after the crash: " << after_crash.events.size() << " events; last acked position " << last_acked);
    auto problems = verify(after_crash, crashed.acks, before);
    INFO(join(problems));
    REQUIRE(problems.empty());

    // 3. Restart: a new process continues every stream where the file left it
    //    (one more account than before, so it may also open a new stream).
    const auto lengths = after_crash.lengths();
    const long deposits = pick(100, 400);
    auto restarted = run_to_completion(db, accounts + 1, deposits, window);
    INFO("restarted writer: " << restarted.acks.size() << " acks, " << describe_status(restarted.status));
    REQUIRE_FALSE(restarted.hung);
    REQUIRE(restarted.junk.empty());
    REQUIRE(restarted.partial.empty());
    REQUIRE(WIFEXITED(restarted.status));
    REQUIRE(WEXITSTATUS(restarted.status) == 0);
    REQUIRE(restarted.acks.size() == static_cast<std::size_t>(deposits));

    auto after_restart = read_journal(db);
    problems = verify(after_restart, restarted.acks, lengths);
    INFO(join(problems));
    REQUIRE(problems.empty());
    problems = verify(after_restart, crashed.acks, before);  // still there after another process lifetime
    INFO(join(problems));
    REQUIRE(problems.empty());

    // Nothing before the restart changed; exactly the restarted writer's
    // events (its opens and deposits) were added.
    REQUIRE(after_restart.events.size() >= after_crash.events.size());
    auto changed = std::mismatch(after_crash.events.begin(), after_crash.events.end(), after_restart.events.begin(),
                                 same_event);
    INFO("first changed position: " << (changed.first == after_crash.events.end() ? 0 : changed.first->position));
    REQUIRE(changed.first == after_crash.events.end());
    std::map<std::string, std::uint64_t> deposited;
    for (auto& a : restarted.acks) ++deposited[a.account];
    std::size_t opened = 0;
    for (int a = 0; a <= accounts; ++a) {
      auto id = "acc-" + std::to_string(a);
      auto it = lengths.find(id);
      auto was = it == lengths.end() ? 0 : it->second;
      if (was == 0) ++opened;
      CHECK(after_restart.lengths()[id] == std::max<std::uint64_t>(was, 1) + deposited[id]);
    }
    CHECK(after_restart.events.size() == after_crash.events.size() + opened + static_cast<std::size_t>(deposits));
  }
}

TEST_CASE("crash: the verifier catches lost, fabricated and misplaced acknowledgements", "[crash]") {
  temp_dir dir;
  const auto db = dir.file("verify.db");
  auto run = run_to_completion(db, 4, 200, 16);
  REQUIRE(WIFEXITED(run.status));
  REQUIRE(WEXITSTATUS(run.status) == 0);
  REQUIRE(run.acks.size() == 200);
  const auto snap = read_journal(db);
  REQUIRE(snap.events.size() == 4 + 200);
  const std::map<std::string, std::uint64_t> none;
  REQUIRE(verify(snap, run.acks, none).empty());

  auto expect_problem = [&](const journal_snapshot& s, const std::vector<ack>& acks, const std::string& needle) {
    auto problems = verify(s, acks, none);
    INFO("expected a problem mentioning \"" << needle << "\", got:\n" << join(problems));
    REQUIRE_FALSE(problems.empty());
    CHECK(join(problems).find(needle) != std::string::npos);
  };

  SECTION("an ack past the end of the journal (acknowledged, then lost)") {
    auto acks = run.acks;
    auto extra = acks.back();
    extra.index = acks.size();
    extra.position = snap.events.size() + 1;
    extra.version += 1;
    extra.balance += 1;
    acks.push_back(extra);
    expect_problem(snap, acks, "no event at that position");
  }
  SECTION("the journal lost the last event") {
    auto s = snap;
    s.events.pop_back();
    expect_problem(s, run.acks, "no event at that position");
  }
  SECTION("an ack with the wrong version") {
    auto acks = run.acks;
    acks[100].version += 1;
    expect_problem(snap, acks, "has version");
  }
  SECTION("an ack for the wrong account") {
    auto acks = run.acks;
    acks[100].account = acks[101].account;
    expect_problem(snap, acks, "belongs to");
  }
  SECTION("an ack with the wrong balance") {
    auto acks = run.acks;
    acks[100].balance += 1;
    expect_problem(snap, acks, "balance");
  }
  SECTION("an ack pointing at another command's event") {
    auto acks = run.acks;
    std::swap(acks[100].index, acks[104].index);  // same account (4 accounts round-robin), other tags
    expect_problem(snap, acks, "not this command's Deposited");
  }
  SECTION("an acknowledged command missing from the writer's sequence") {
    auto acks = run.acks;
    acks.erase(acks.begin() + 100);
    expect_problem(snap, acks, "expected version");
  }
  SECTION("a hole in the global positions") {
    auto s = snap;
    s.events.erase(s.events.begin() + 50);
    expect_problem(s, run.acks, "position gap");
  }
  SECTION("a hole in a stream's versions") {
    auto s = snap;
    for (auto& e : s.events)
      if (e.aggregate_id == "acc-2" && e.version >= 10) ++e.version;
    expect_problem(s, {}, "version gap in Account/acc-2");
  }
  SECTION("the journal's stream version disagrees with its events") {
    auto s = snap;
    s.reported_versions["Account/acc-1"] += 1;
    expect_problem(s, {}, "stream_version(Account/acc-1)");
  }
  SECTION("an event that is not a deposit of 1") {
    auto s = snap;
    s.events[30].payload = R"({"amount":2,"tag":"x"})";
    expect_problem(s, {}, "not Deposited(amount 1)");
  }
}
