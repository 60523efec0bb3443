// The aggregate actor's phases (actors/aggregate/aggregate_actor.hpp), each
// held open on purpose by a journal whose reads and appends wait at a gate,
// and a command arriving in each: it waits its turn, runs on the right state,
// and is answered exactly once, in order.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>

#include <caf/all.hpp>

#include <interlock/actors/aggregate/aggregate_actor.hpp>
#include <interlock/actors/aggregate/messages.hpp>
#include <interlock/actors/journal_inbox.hpp>
#include <interlock/actors/journal_reader.hpp>
#include <interlock/actors/journal_writer.hpp>
#include <interlock/actors/messages.hpp>
#include <interlock/persistence/memory_journal.hpp>

#include "bank_domain.hpp"
#include "forwarding_journal.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using interlock::errc;
using interlock::detail::erased_command;
using interlock::detail::erased_reply;

namespace {

// Where the test holds the journal's calls, and what it makes them do. A
// call waits while its number (1, 2, ... per kind) is above what is allowed.
struct gates {
  static constexpr int all = std::numeric_limits<int>::max();
  std::mutex m;
  std::condition_variable cv;
  int reads = 0, appends = 0;                // calls started
  int reads_allowed = all, appends_allowed = all;
  int appends_to_fail = 0;  // the next appends fail each request with errc::conflict
  caf::error read_failure;  // set: stream reads fail with it

  // Calls after those started so far wait.
  void hold(int gates::*allowed, int gates::*count) {
    std::lock_guard lock{m};
    this->*allowed = this->*count;
  }
  void allow(int gates::*allowed, int up_to = all) {
    std::lock_guard lock{m};
    this->*allowed = up_to;
    cv.notify_all();
  }
  // Counts the call, then waits until it is allowed.
  void pass(int gates::*allowed, int gates::*count) {
    std::unique_lock lock{m};
    const int mine = ++(this->*count);
    cv.notify_all();
    cv.wait(lock, [&] { return mine <= this->*allowed; });
  }
  void fail_appends(int n) {
    std::lock_guard lock{m};
    appends_to_fail = n;
  }
  bool wait_for(int gates::*count, int n) {
    std::unique_lock lock{m};
    return cv.wait_for(lock, 10s, [&] { return this->*count >= n; });
  }
};

struct gated_journal : testing_support::forwarding_journal {
  std::shared_ptr<gates> g;
  gated_journal(std::unique_ptr<interlock::journal> j, std::shared_ptr<gates> gs)
      : forwarding_journal(std::move(j)), g(std::move(gs)) {}

  std::vector<caf::expected<interlock::append_result>> append(
      const std::vector<interlock::append_request>& batch) override {
    g->pass(&gates::appends_allowed, &gates::appends);
    {
      std::lock_guard lock{g->m};
      if (g->appends_to_fail > 0) {
        --g->appends_to_fail;
        return std::vector<caf::expected<interlock::append_result>>(
            batch.size(), caf::expected<interlock::append_result>{interlock::make_error(errc::conflict, "injected")});
      }
    }
    return inner->append(batch);
  }
  caf::expected<std::size_t> scan_stream(const std::string& t, const std::string& id, std::uint64_t from,
                                         std::size_t n, const interlock::event_visitor& visit,
                                         interlock::scan_fields fields) override {
    g->pass(&gates::reads_allowed, &gates::reads);
    {
      std::lock_guard lock{g->m};
      if (g->read_failure) return g->read_failure;
    }
    return inner->scan_stream(t, id, from, n, visit, fields);
  }
};

// A writer, a reader and aggregate actors of testbank::Account, on one
// in-memory store behind the gates; commands sent straight to the actors.
struct harness {
  testing_support::actor_env env;
  std::shared_ptr<gates> g = std::make_shared<gates>();
  interlock::journal_factory factory = interlock::memory_journal_factory();
  std::shared_ptr<interlock::detail::journal_inbox> inbox = std::make_shared<interlock::detail::journal_inbox>();
  caf::actor writer = interlock::spawn_journal_writer(env.sys, gated(), inbox, 64, std::chrono::microseconds{0});
  caf::actor reader = interlock::spawn_journal_reader(env.sys, gated(), 4096, nullptr);
  std::unique_ptr<caf::scoped_actor> self = std::make_unique<caf::scoped_actor>(env.sys);
  std::vector<caf::actor> aggregates;
  int next_id = 0;

  ~harness() {
    for (auto& a : aggregates) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    g->allow(&gates::reads_allowed);
    g->allow(&gates::appends_allowed);
    self.reset();
  }

  std::unique_ptr<interlock::journal> gated() {
    auto j = factory();
    REQUIRE(j);
    return std::make_unique<gated_journal>(std::move(*j), g);
  }

  caf::actor spawn(const std::string& id) {
    interlock::aggregate_context ctx;
    ctx.writer = writer;
    ctx.inbox = inbox;
    ctx.reader = reader;
    ctx.journal_timeout = 10'000ms;
    ctx.passivate_after = 0ms;
    aggregates.push_back(interlock::spawn_aggregate_actor(
        caf::actor_cast<caf::local_actor*>(self->ptr()), interlock::detail::make_aggregate_kind<testbank::Account>(),
        id, ctx));
    return aggregates.back();
  }

  template <class C>
  erased_command command(const std::string& id, C body) {
    erased_command cmd;
    cmd.aggregate_type = "Account";
    cmd.aggregate_id = id;
    cmd.command_type = std::string{interlock::type_name_of<C>()};
    cmd.body = std::make_shared<const C>(std::move(body));
    cmd.body_type = &typeid(C);
    cmd.command_id = "cmd-" + std::to_string(++next_id);
    cmd.correlation_id = cmd.command_id;
    return cmd;
  }

  // Sends a command; its reply is read later with reply().
  template <class C>
  auto send(const caf::actor& a, const std::string& id, C body) {
    return (*self)->request(a, caf::infinite, command(id, std::move(body)));
  }

  std::string phase(const caf::actor& a) {
    std::string out;
    (*self)->request(a, 5s, interlock::phase_atom::value)
        .receive([&](std::string& p) { out = std::move(p); }, [&](caf::error& err) { out = to_string(err); });
    return out;
  }

  // Asks until `a` is in `wanted` (a phase lasts as long as the test holds its gate).
  bool reaches(const caf::actor& a, const std::string& wanted) {
    for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
      if (phase(a) == wanted) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
};

// The reply to a request sent with harness::send: the new balance, or the error's code.
template <class Handle>
caf::expected<std::int64_t> balance_from(Handle& h) {
  caf::expected<std::int64_t> out{std::int64_t{-1}};
  h.receive([&](erased_reply& r) { out = *static_cast<const std::int64_t*>(r.result.get()); },
            [&](caf::error& err) { out = std::move(err); });
  return out;
}

template <class Handle>
caf::error error_from(Handle& h) {
  caf::error out;
  h.receive([&](erased_reply&) {}, [&](caf::error& err) { out = std::move(err); });
  return out;
}

template <class Handle>
bool answered_ok(Handle& h) {
  bool ok = false;
  h.receive([&](erased_reply&) { ok = true; }, [&](caf::error&) {});
  return ok;
}

void open(harness& h, const caf::actor& a, const std::string& id) {
  auto r = h.send(a, id, testbank::Open{"ann"});
  REQUIRE(answered_ok(r));
}

using reply_handle = decltype(std::declval<harness&>().send(caf::actor{}, std::string{}, testbank::Deposit{}));

// Brings `a` (opened) to syncing and holds it there: Deposit d1's append
// fails (conflict) while d2, which ran on d1's unstored event, waits at the
// gate in the writer, so the sync batch waits behind it; then d3 comes, and
// waits in line. Appends stay held.
std::tuple<reply_handle, reply_handle, reply_handle> syncing_with_d3_waiting(harness& h, const caf::actor& a) {
  const int appends_before = h.g->appends;
  h.g->hold(&gates::appends_allowed, &gates::appends);
  h.g->fail_appends(1);
  auto d1 = h.send(a, "a", testbank::Deposit{{}, 1, "d1"});
  REQUIRE(h.g->wait_for(&gates::appends, appends_before + 1));
  auto d2 = h.send(a, "a", testbank::Deposit{{}, 2, "d2"});
  h.g->allow(&gates::appends_allowed, appends_before + 1);
  REQUIRE(h.reaches(a, "syncing"));
  auto d3 = h.send(a, "a", testbank::Deposit{{}, 3, "d3"});
  CHECK(h.phase(a) == "syncing");
  return {std::move(d1), std::move(d2), std::move(d3)};
}

// Whether the monitored actor reports down within 10 s.
bool stops(harness& h) {
  bool down = false;
  (*h.self)->receive([&](caf::down_msg&) { down = true; }, caf::after(10s) >> [] {});
  return down;
}

}  // namespace

TEST_CASE("phases: a command that comes while recovering waits, then runs on the recovered state", "[phases]") {
  harness h;
  auto first = h.spawn("a");
  open(h, first, "a");
  auto d = h.send(first, "a", testbank::Deposit{{}, 5, "t"});
  REQUIRE(balance_from(d) == 5);

  h.g->hold(&gates::reads_allowed, &gates::reads);
  const int reads_before = h.g->reads;
  auto second = h.spawn("a");  // a second actor for the same stream: it loads what the first stored
  REQUIRE(h.g->wait_for(&gates::reads, reads_before + 1));
  CHECK(h.phase(second) == "recovering");
  auto late = h.send(second, "a", testbank::Deposit{{}, 7, "t"});
  h.g->allow(&gates::reads_allowed);
  CHECK(balance_from(late) == 12);
  CHECK(h.phase(second) == "running");
}

TEST_CASE("phases: commands that come while syncing after a failed append wait, the handed-back ones run first",
          "[phases]") {
  harness h;
  auto a = h.spawn("a");
  open(h, a, "a");
  auto [d1, d2, d3] = syncing_with_d3_waiting(h, a);
  h.g->allow(&gates::appends_allowed);
  // d1 and d2 rerun on the reloaded state, then d3: each once, in order.
  CHECK(balance_from(d1) == 1);
  CHECK(balance_from(d2) == 3);
  CHECK(balance_from(d3) == 6);
  auto more = h.send(a, "a", testbank::Deposit{{}, 4, "d4"});
  CHECK(balance_from(more) == 10);
  auto j = h.factory();
  REQUIRE(j);
  auto stream = (*j)->read_stream("Account", "a", 1, 100);
  REQUIRE(stream);
  REQUIRE(stream->size() == 5);  // Opened, then d1-d4 once each
  CHECK(stream->back().version == 5);
}

TEST_CASE("phases: passivating waits for the batch in flight, serves a command that comes meanwhile, then stops",
          "[phases]") {
  harness h;
  auto a = h.spawn("a");
  open(h, a, "a");
  (*h.self)->monitor(a);
  h.g->hold(&gates::appends_allowed, &gates::appends);
  auto d1 = h.send(a, "a", testbank::Deposit{{}, 1, "d1"});
  (*h.self)->send(a, interlock::passivate_atom::value);
  REQUIRE(h.reaches(a, "passivating"));
  // The router sends nothing after passivate_atom; a command that comes all
  // the same is served before the actor stops.
  auto d2 = h.send(a, "a", testbank::Deposit{{}, 2, "d2"});
  h.g->allow(&gates::appends_allowed);
  CHECK(balance_from(d1) == 1);
  CHECK(balance_from(d2) == 3);
  CHECK(stops(h));
}

TEST_CASE("phases: an append that fails while passivating is rerun before the actor stops", "[phases]") {
  harness h;
  auto a = h.spawn("a");
  open(h, a, "a");
  (*h.self)->monitor(a);
  h.g->hold(&gates::appends_allowed, &gates::appends);
  h.g->fail_appends(1);
  auto d1 = h.send(a, "a", testbank::Deposit{{}, 1, "d1"});
  (*h.self)->send(a, interlock::passivate_atom::value);
  REQUIRE(h.reaches(a, "passivating"));
  h.g->allow(&gates::appends_allowed);
  CHECK(balance_from(d1) == 1);  // rerun after the reload, then stored
  CHECK(stops(h));
  auto j = h.factory();
  REQUIRE(j);
  auto stream = (*j)->read_stream("Account", "a", 1, 100);
  REQUIRE(stream);
  CHECK(stream->size() == 2);
}

TEST_CASE("phases: after bad data the actor is failed: every command gets the error, and it stops when passivated",
          "[phases]") {
  harness h;
  h.g->read_failure = interlock::make_error(errc::corrupt_event, "stream Account/a, version 2: injected");
  auto a = h.spawn("a");
  (*h.self)->monitor(a);
  auto first = h.send(a, "a", testbank::Open{"ann"});
  CHECK(interlock::code_of(error_from(first)) == errc::corrupt_event);
  CHECK(h.phase(a) == "failed");
  auto second = h.send(a, "a", testbank::Open{"ann"});
  CHECK(interlock::code_of(error_from(second)) == errc::corrupt_event);
  (*h.self)->send(a, interlock::passivate_atom::value);
  CHECK(stops(h));
}

TEST_CASE("phases: a journal that did not answer fails the waiting commands and the actor stops for a fresh one",
          "[phases]") {
  harness h;
  h.g->read_failure = interlock::make_error(errc::unavailable, "injected: the journal is busy");
  h.g->hold(&gates::reads_allowed, &gates::reads);
  auto a = h.spawn("a");
  (*h.self)->monitor(a);
  REQUIRE(h.reaches(a, "recovering"));
  auto first = h.send(a, "a", testbank::Open{"ann"});
  CHECK(h.phase(a) == "recovering");
  h.g->allow(&gates::reads_allowed);
  CHECK(interlock::code_of(error_from(first)) == errc::unavailable);
  CHECK(stops(h));
}

TEST_CASE("phases: told to exit while syncing, the actor refuses the commands in line and every caller is answered",
          "[phases]") {
  harness h;
  auto a = h.spawn("a");
  open(h, a, "a");
  auto [d1, d2, d3] = syncing_with_d3_waiting(h, a);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  CHECK(interlock::code_of(error_from(d3)) == errc::unavailable);
  h.g->allow(&gates::appends_allowed);
  // d1 was handed back before the exit and refused with it; d2's batch comes
  // back to a stopped actor and answers for itself.
  CHECK(interlock::code_of(error_from(d1)) == errc::unavailable);
  CHECK(interlock::code_of(error_from(d2)) == errc::unavailable);
}
