// The journal writer's inbox on its own: aggregates tell the writer only when
// it is not due to look anyway, nothing left there is lost or reordered, and
// once the writer has stopped a job is refused, not kept.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <thread>
#include <utility>

#include <caf/all.hpp>

#include <interlock/actors/journal_inbox.hpp>
#include <interlock/actors/journal_writer.hpp>
#include <interlock/actors/messages.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/persistence/memory_journal.hpp>

#include "forwarding_journal.hpp"
#include "journal_test_support.hpp"
#include "test_support.hpp"

using interlock::detail::append_job_ptr;
using interlock::detail::journal_inbox;
using left = journal_inbox::left;

namespace {
struct empty_job : interlock::detail::append_job {
  void completed(std::span<caf::expected<interlock::append_result>>, caf::local_actor*) override {}
};
append_job_ptr job() { return std::make_shared<empty_job>(); }
}  // namespace

TEST_CASE("inbox: the first job tells the writer, the ones after it until the writer takes them do not",
          "[inbox]") {
  journal_inbox inbox;
  auto a = job(), b = job();
  auto* first = a.get();
  auto* second = b.get();
  CHECK(inbox.leave(a) == left::queued_tell_writer);
  CHECK(inbox.leave(b) == left::queued);
  CHECK(a == nullptr);  // taken
  std::vector<append_job_ptr> taken;
  inbox.take(taken);
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].get() == first);  // in the order they came
  CHECK(taken[1].get() == second);
  // Still told: the writer has not rested yet, it settles what came meanwhile.
  auto c = job();
  CHECK(inbox.leave(c) == left::queued);
  CHECK_FALSE(inbox.rest(false));  // it must take that one before it rests
  taken.clear();
  inbox.take(taken);
  CHECK(taken.size() == 1);
  CHECK(inbox.rest(false));
  auto d = job();
  CHECK(inbox.leave(d) == left::queued_tell_writer);  // idle: it must be told
}

TEST_CASE("inbox: while the writer is sure to look again, jobs wait without telling it", "[inbox]") {
  journal_inbox inbox;
  REQUIRE(inbox.rest(true));  // a commit is in flight
  auto a = job(), b = job();
  CHECK(inbox.leave(a) == left::queued);
  CHECK(inbox.leave(b) == left::queued);
  CHECK(inbox.rest(true));  // still busy: they may wait for its next look
  std::vector<append_job_ptr> taken;
  inbox.take(taken);
  CHECK(taken.size() == 2);
  CHECK(inbox.rest(false));
  auto c = job();
  CHECK(inbox.leave(c) == left::queued_tell_writer);
}

TEST_CASE("inbox: a stopped writer gets the jobs left and refuses later ones", "[inbox]") {
  journal_inbox inbox;
  auto a = job();
  REQUIRE(inbox.leave(a) == left::queued_tell_writer);
  auto last = inbox.close();
  CHECK(last.size() == 1);
  auto late = job();
  CHECK(inbox.leave(late) == left::closed);
  CHECK(late != nullptr);  // the caller still holds it: dropped, it answers its commands
  std::vector<append_job_ptr> taken;
  inbox.take(taken);
  CHECK(taken.empty());
}

TEST_CASE("inbox: a writer killed outright (its exit handler skipped) still closes its inbox", "[inbox]") {
  testing_support::actor_env env;
  auto inbox = std::make_shared<journal_inbox>();
  auto journal = interlock::memory_journal_factory()();
  REQUIRE(journal);
  auto writer = interlock::spawn_journal_writer(env.sys, std::move(*journal), inbox, 64, std::chrono::microseconds{0});
  auto before = job();
  REQUIRE(inbox->leave(before) == left::queued_tell_writer);
  caf::scoped_actor self{env.sys};
  self->monitor(writer);
  caf::anon_send_exit(writer, caf::exit_reason::kill);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; });
  REQUIRE(down);
  // The writer's cleanup closes the inbox and sends the down message, in no
  // order CAF promises: a job left in between is taken, so try until refused.
  auto late = job();
  auto refused = inbox->leave(late);
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       refused != left::closed && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    late = job();
    refused = inbox->leave(late);
  }
  CHECK(refused == left::closed);  // refused, not kept where no one looks
  CHECK(late != nullptr);
  std::vector<append_job_ptr> taken;
  inbox->take(taken);
  CHECK(taken.empty());  // the one left before is not kept either (taken, or dropped at close)
}

namespace {

// A job whose results the test waits for.
struct awaited_job : interlock::detail::append_job {
  std::promise<std::vector<caf::expected<interlock::append_result>>> done;
  void completed(std::span<caf::expected<interlock::append_result>> results, caf::local_actor*) override {
    done.set_value({results.begin(), results.end()});
  }
};

// A memory journal whose first last_position() fails: the writer starts not
// knowing the last position, so the first one it publishes is what it reports.
struct unsure_journal : testing_support::forwarding_journal {
  bool asked = false;
  unsure_journal() : forwarding_journal(journal_testing::open_journal(interlock::memory_journal_factory())) {}
  caf::expected<std::uint64_t> last_position() override {
    if (!std::exchange(asked, true)) return interlock::make_error(interlock::errc::storage, "not now");
    return inner->last_position();
  }
};

}  // namespace

TEST_CASE("writer: a recorded command without events publishes no position", "[inbox][writer]") {
  testing_support::actor_env env;
  auto inbox = std::make_shared<journal_inbox>();
  auto writer = interlock::spawn_journal_writer(env.sys, std::make_unique<unsure_journal>(), inbox, 64,
                                                std::chrono::microseconds{0});
  caf::scoped_actor self{env.sys};
  const auto commit = [&](interlock::append_request req) {
    auto j = std::make_shared<awaited_job>();
    j->requests.push_back(std::move(req));
    auto results = j->done.get_future();
    append_job_ptr p = j;
    if (inbox->leave(p) == left::queued_tell_writer) self->send(writer, interlock::drain_atom::value);
    REQUIRE(results.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto out = results.get();
    REQUIRE(out.size() == 1);
    return journal_testing::value_of(std::move(out[0]));
  };
  const auto published = [&] {
    caf::expected<std::uint64_t> out{std::uint64_t{0}};
    self->request(writer, std::chrono::seconds(10), interlock::subscribe_atom::value, caf::actor{self})
        .receive([&](std::uint64_t position) { out = position; }, [&](caf::error& err) { out = std::move(err); });
    return out;
  };
  REQUIRE_FALSE(published());  // it could not read the last position
  auto alone = journal_testing::request("A", "x", 0, 0);
  alone.record_command = true;
  alone.refusal = interlock::make_error(interlock::errc::rejected, "no");
  CHECK(commit(alone).last_position == 0);
  CHECK_FALSE(published());  // a command without events published nothing: still unknown
  CHECK(commit(journal_testing::request("A", "x", 0, 2)).last_position == 2);
  CHECK(published() == std::uint64_t{2});
  auto unchanged = journal_testing::request("A", "x", 2, 0);
  unchanged.record_command = true;
  CHECK(commit(unchanged).last_version == 2);
  CHECK(published() == std::uint64_t{2});  // not lowered to its 0
  // Stopped before the system goes: a writer left running is let go of by its
  // commit thread's last callback, after the actor system is gone (a crash at
  // exit, about 1 run in 100).
  self->send_exit(writer, caf::exit_reason::user_shutdown);
  self->wait_for(writer);
}
