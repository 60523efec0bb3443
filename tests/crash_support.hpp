// What the kill -9 crash tests share (crash_test.cpp on SQLite,
// postgres_crash_test.cpp on PostgreSQL): bank_writer (tests/programs/) as a
// child process whose acknowledgements are read line by line, and the
// verifier of what a journal holds against them.
#pragma once

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
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.hpp"

#include <interlock/persistence/journal.hpp>

#include "bank_domain.hpp"

extern char** environ;

namespace crash_testing {

inline const std::string account_type{interlock::type_name_of<testbank::Account>()};

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

inline std::string describe_status(int status) {
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

inline bool parse_ack(const std::string& line, std::size_t index, ack& out) {
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

/// Everything `j` holds, read back three ways (log, stream versions, streams).
inline journal_snapshot read_journal(interlock::journal& j) {
  journal_snapshot s;
  auto all = j.read_all(1, SIZE_MAX);
  if (!all) FAIL("read_all: " << interlock::describe(all.error()));
  s.events = std::move(*all);
  std::map<std::string, std::pair<std::string, std::string>> streams;
  for (auto& e : s.events) streams.emplace(e.stream_name(), std::make_pair(e.aggregate_type, e.aggregate_id));
  for (auto& [name, key] : streams) {
    auto v = j.stream_version(key.first, key.second);
    if (!v) FAIL("stream_version " << name << ": " << interlock::describe(v.error()));
    s.reported_versions[name] = *v;
    auto evs = j.read_stream(key.first, key.second, 1, SIZE_MAX);
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
inline std::vector<std::string> verify(const journal_snapshot& s, const std::vector<ack>& acks,
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

inline std::string join(const std::vector<std::string>& lines) {
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

inline void collect(writer_process& p, run_outcome& out, std::size_t stop_after = SIZE_MAX) {
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
inline run_outcome run_and_kill(const std::vector<std::string>& args, std::size_t kill_after_acks,
                                std::chrono::microseconds extra_delay) {
  run_outcome out;
  writer_process p{args};
  if (!p.started()) FAIL(p.error());
  collect(p, out, kill_after_acks);
  if (out.acks.size() == kill_after_acks) std::this_thread::sleep_for(extra_delay);
  p.kill9();
  collect(p, out);  // whatever it printed before dying was acknowledged too
  out.partial = p.partial();
  out.status = p.wait();
  return out;
}

inline run_outcome run_to_completion(const std::vector<std::string>& args) {
  run_outcome out;
  writer_process p{args};
  if (!p.started()) FAIL(p.error());
  collect(p, out);
  out.partial = p.partial();
  out.status = p.wait();
  return out;
}

inline bool same_event(const interlock::stored_event& a, const interlock::stored_event& b) {
  return a.position == b.position && a.aggregate_type == b.aggregate_type && a.aggregate_id == b.aggregate_id &&
         a.version == b.version && a.event_type == b.event_type && a.payload == b.payload &&
         a.recorded_at_us == b.recorded_at_us && a.command_id == b.command_id;
}

using testing_support::crash_seed;

}  // namespace crash_testing
