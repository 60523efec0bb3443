// The journal writer's commit thread (actors/journal_committer.hpp): one batch
// at a time, on its own thread, every request answered even when the journal
// throws, the batch handed over before the end still committed.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <interlock/actors/journal_committer.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

#include "forwarding_journal.hpp"
#include "journal_test_support.hpp"
#include "test_support.hpp"

using interlock::append_request;
using interlock::errc;
using interlock::detail::journal_committer;
using testing_support::temp_dir;

namespace {

append_request deposit(const std::string& id, std::uint64_t expected_version, int amount) {
  append_request r;
  r.aggregate_type = "Account";
  r.aggregate_id = id;
  r.expected_version = expected_version;
  r.events.push_back({"Deposited", 1, "{\"amount\":" + std::to_string(amount) + "}"});
  return r;
}

// Counts on_committed calls and lets the test wait for the next one.
struct signal {
  std::mutex m;
  std::condition_variable cv;
  int calls = 0;
  std::thread::id caller;
  std::function<void()> callback() {
    return [this] {
      std::lock_guard<std::mutex> lock{m};
      ++calls;
      caller = std::this_thread::get_id();
      cv.notify_all();
    };
  }
  void wait_for(int n) {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return calls >= n; }));
  }
};

// A journal whose append throws (or answers short), to see every request
// answered anyway; the rest goes to a memory journal.
struct broken_journal : testing_support::forwarding_journal {
  enum class how { throws, throws_int, answers_short };
  how mode;
  explicit broken_journal(how m)
      : forwarding_journal(journal_testing::open_journal(interlock::memory_journal_factory())), mode(m) {}
  std::vector<caf::expected<interlock::append_result>> append(const std::vector<append_request>& batch) override {
    if (mode == how::throws) throw std::runtime_error("disk on fire");
    if (mode == how::throws_int) throw 7;
    return std::vector<caf::expected<interlock::append_result>>(batch.size() - 1, interlock::append_result{});
  }
};

}  // namespace

TEST_CASE("journal committer: batches commit in order on another thread, results per request", "[committer]") {
  temp_dir dir;
  const auto path = dir.file("c.db");
  signal done;
  {
    journal_committer c{journal_testing::open_journal(interlock::sqlite_journal_factory(interlock::sqlite_options{path})), done.callback()};
    CHECK_FALSE(c.busy());
    journal_committer::batch b;
    b.requests = {deposit("a", 0, 1), deposit("b", 0, 2), deposit("a", 1, 3)};
    c.commit(std::move(b));
    CHECK(c.busy());
    done.wait_for(1);
    auto first = c.take();
    CHECK_FALSE(c.busy());
    CHECK(done.caller != std::this_thread::get_id());
    REQUIRE(first.results.size() == 3);
    REQUIRE(first.requests.size() == 3);  // handed back, to be freed where they were made
    for (std::size_t i = 0; i < 3; ++i) {
      REQUIRE(first.results[i]);
      CHECK(first.results[i]->last_position == i + 1);
    }

    journal_committer::batch second;
    second.requests = {deposit("b", 1, 4), deposit("a", 1, 5)};  // the second conflicts: "a" is at 2
    c.commit(std::move(second));
    done.wait_for(2);
    auto b2 = c.take();
    REQUIRE(b2.results.size() == 2);
    REQUIRE(b2.results[0]);
    CHECK(b2.results[0]->last_position == 4);
    REQUIRE_FALSE(b2.results[1]);
    CHECK(interlock::is(b2.results[1].error(), errc::conflict));
    auto committed = interlock::committed_events(b2.requests, b2.results);
    REQUIRE(committed.size() == 1);  // only what committed is published
    CHECK(committed[0].position == 4);
    CHECK(committed[0].aggregate_id == "b");
  }
  auto j = journal_testing::open_journal(interlock::sqlite_journal_factory(interlock::sqlite_options{path}));  // the committer closed it
  auto all = j->read_all(1, 100);
  REQUIRE(all);
  CHECK(all->size() == 4);
}

TEST_CASE("journal committer: wait() returns the batch in flight, or nothing when idle", "[committer]") {
  signal done;
  journal_committer c{journal_testing::open_journal(interlock::memory_journal_factory()), done.callback()};
  CHECK(c.wait().requests.empty());
  journal_committer::batch b;
  b.requests = {deposit("a", 0, 1)};
  c.commit(std::move(b));
  auto back = c.wait();
  CHECK_FALSE(c.busy());
  REQUIRE(back.results.size() == 1);
  CHECK(back.results[0]);
}

TEST_CASE("journal committer: a journal that throws or answers short fails every request of the batch",
          "[committer]") {
  using how = broken_journal::how;
  auto [mode, message] = GENERATE(table<how, std::string>(
      {{how::throws, "storage: the journal failed the batch: disk on fire"},
       {how::throws_int, "storage: the journal failed the batch with an unknown exception"},
       {how::answers_short, "storage: the journal answered 2 of 3 appends"}}));
  signal done;
  journal_committer c{std::make_unique<broken_journal>(mode), done.callback()};
  journal_committer::batch b;
  b.requests = {deposit("a", 0, 1), deposit("b", 0, 2), deposit("c", 0, 3)};
  c.commit(std::move(b));
  auto back = c.wait();
  REQUIRE(back.results.size() == 3);
  for (auto& r : back.results) {
    REQUIRE_FALSE(r);
    CHECK(interlock::describe(r.error()) == message);
  }
  done.wait_for(1);  // and the thread goes on: the next batch is taken
  journal_committer::batch next;
  next.requests = {deposit("d", 0, 4)};
  c.commit(std::move(next));
  CHECK(c.wait().results.size() == 1);
}

TEST_CASE("journal committer: a batch handed over just before the end is still committed", "[committer]") {
  temp_dir dir;
  const auto path = dir.file("c.db");
  {
    journal_committer c{journal_testing::open_journal(interlock::sqlite_journal_factory(interlock::sqlite_options{path})), [] {}};
    journal_committer::batch b;
    for (int i = 0; i < 50; ++i) b.requests.push_back(deposit("s" + std::to_string(i), 0, i));
    c.commit(std::move(b));
  }  // destroyed at once: it waits for the batch, then closes the journal
  auto j = journal_testing::open_journal(interlock::sqlite_journal_factory(interlock::sqlite_options{path}));
  auto all = j->read_all(1, 100);
  REQUIRE(all);
  CHECK(all->size() == 50);
}

TEST_CASE("journal committer: its thread is named journal.commit (top -H, perf, gdb)", "[committer]") {
  journal_committer c{journal_testing::open_journal(interlock::memory_journal_factory()), [] {}};
  journal_committer::batch b;
  b.requests = {deposit("a", 0, 1)};
  c.commit(std::move(b));
  c.wait();  // the thread has run, so it has named itself
  bool found = false;
  for (auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm{task.path() / "comm"};
    std::string name;
    std::getline(comm, name);
    found = found || name == "journal.commit";
  }
  CHECK(found);
}
