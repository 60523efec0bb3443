// The PostgreSQL journal's watch (persistence/journal_watch.hpp), against the
// tests' server: another connection's append is told by its notification, a
// head moved without one is found by the poll, a connection the server ends
// is replaced with nothing missed, and interrupt() ends a long wait at once.
#include <catch2/catch.hpp>

#include "journal_test_support.hpp"

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <interlock/persistence/journal_watch.hpp>
#include <interlock/persistence/postgres_journal.hpp>

using namespace interlock;
using namespace journal_testing;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

std::unique_ptr<journal_watch> watch_of(journal& j) {
  auto w = value_of(j.open_watch());
  REQUIRE(w);
  return w;
}

// Waits (at most 10 s in all) until the watch reports `want` or more.
std::uint64_t wait_for(journal_watch& w, std::uint64_t want, std::chrono::milliseconds poll) {
  const auto start = clock_type::now();
  std::uint64_t head = 0;
  while (head < want && clock_type::now() - start < 10s) {
    auto h = w.wait(poll);
    if (h) head = *h;
  }
  return head;
}

}  // namespace

TEST_CASE("postgres journal watch: another connection's append is told long before the poll", "[journal][postgres]") {
  postgres_backend backend;
  auto mine = open_journal(backend.factory);
  auto theirs = open_journal(backend.factory);
  auto w = watch_of(*mine);
  CHECK(value_of(w->wait(10ms)) == 0);  // the empty journal, read when the poll passed
  auto told = std::async(std::launch::async, [&] {
    const auto start = clock_type::now();
    auto head = value_of(w->wait(60s));
    return std::pair{head, ms_since(start)};
  });
  std::this_thread::sleep_for(100ms);  // the watch waits on its socket now
  append_ok(*theirs, request("A", "x", 0, 3));
  REQUIRE(told.wait_for(10s) == std::future_status::ready);
  const auto [head, waited] = told.get();
  CHECK(head == 3);
  CHECK(waited < 10'000);  // of a 60 s poll: the notification did it
  // A batch of several requests tells its last position.
  auto results = theirs->append({request("A", "x", 3, 2), request("B", "y", 0, 4)});
  REQUIRE(results.size() == 2);
  CHECK(wait_for(*w, 9, 60s) == 9);
}

TEST_CASE("postgres journal watch: a head moved without a notification is found when the poll passes",
          "[journal][postgres]") {
  postgres_backend backend;
  auto j = open_journal(backend.factory);
  auto w = watch_of(*j);
  CHECK(value_of(w->wait(10ms)) == 0);
  // As if a notification were lost: the counter moved by hand, nobody told.
  REQUIRE(postgres_exec(backend.url, "UPDATE \"" + backend.schema + "\".journal_head SET last_position = 5"));
  const auto start = clock_type::now();
  CHECK(value_of(w->wait(300ms)) == 5);
  CHECK(ms_since(start) >= 250);  // it waited for the poll: nothing was told
}

TEST_CASE("postgres journal watch: after the server ends its connection it reconnects and misses nothing",
          "[journal][postgres]") {
  postgres_backend backend;
  const auto name = "watched_" + backend.schema;
  const auto url = backend.url + (backend.url.find('?') == std::string::npos ? "?" : "&") + "application_name=" + name;
  auto j = value_of(open_postgres_journal({url, backend.schema}));
  auto theirs = open_journal(backend.factory);
  auto w = watch_of(*j);
  append_ok(*theirs, request("A", "x", 0, 1));
  CHECK(wait_for(*w, 1, 60s) == 1);
  // Ends the journal's and the watch's connections (both carry the name).
  REQUIRE(postgres_exec(backend.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
                                         name + "'"));
  auto lost = w->wait(60s);
  REQUIRE_FALSE(lost);
  check_error(lost.error(), errc::storage, {"cannot watch journal schema '" + backend.schema + "'", "connection"});
  // Appended while it had no connection: the reconnect reads the row.
  append_ok(*theirs, request("A", "x", 1, 2));
  CHECK(value_of(w->wait(60s)) == 3);
  append_ok(*theirs, request("A", "x", 3, 1));
  CHECK(wait_for(*w, 4, 60s) == 4);
}

TEST_CASE("postgres journal watch: interrupt ends a long wait at once, and every wait after it",
          "[journal][postgres]") {
  postgres_backend backend;
  auto j = open_journal(backend.factory);
  auto w = watch_of(*j);
  auto waiting = std::async(std::launch::async, [&] {
    const auto start = clock_type::now();
    [[maybe_unused]] auto h = w->wait(60s);
    return ms_since(start);
  });
  std::this_thread::sleep_for(100ms);
  w->interrupt();
  REQUIRE(waiting.wait_for(10s) == std::future_status::ready);
  CHECK(waiting.get() < 10'000);
  const auto start = clock_type::now();
  CHECK(w->wait(60s));
  CHECK(ms_since(start) < 1'000);
}

TEST_CASE("journal watch: a journal in memory has none", "[journal]") {
  memory_backend backend;
  auto j = open_journal(backend.factory);
  CHECK(value_of(j->open_watch()) == nullptr);
}
