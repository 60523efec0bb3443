// The journal reader's second thread (actors/apply_pipeline.hpp): tasks run
// in order, one at a time, off the submitting thread; submit() holds back
// while `depth` are pending; drain() returns only when all have run.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include <interlock/actors/apply_pipeline.hpp>

using interlock::detail::apply_pipeline;

TEST_CASE("apply pipeline: tasks run in order, on another thread, and drain() waits for them", "[pipeline]") {
  std::vector<int> order;  // touched only by the pipeline's thread until drain()
  std::atomic<bool> other_thread{true};
  const auto submitter = std::this_thread::get_id();
  apply_pipeline p;
  for (int i = 0; i < 100; ++i)
    p.submit([&, i] {
      if (std::this_thread::get_id() == submitter) other_thread = false;
      order.push_back(i);
    });
  p.drain();
  REQUIRE(order.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
  CHECK(other_thread);
}

TEST_CASE("apply pipeline: submit() waits while `depth` tasks are pending", "[pipeline]") {
  apply_pipeline p{2};
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  auto blocked = [&] {
    ++started;
    while (!release) std::this_thread::yield();
  };
  p.submit(blocked);  // runs and blocks
  p.submit(blocked);  // pending: two in the pipeline
  std::atomic<bool> submitting{false}, third_in{false};
  std::thread submitter{[&] {
    submitting = true;
    p.submit([] {});
    third_in = true;
  }};
  while (!submitting || started == 0) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(third_in);  // held back: the pipeline is full
  CHECK(started == 1);    // one at a time
  release = true;
  submitter.join();
  p.drain();
  CHECK(third_in);
  CHECK(started == 2);
}

TEST_CASE("apply pipeline: destruction runs what is pending, then stops", "[pipeline]") {
  std::atomic<int> ran{0};
  {
    apply_pipeline p{8};
    p.submit([&] {  // still running when the pipeline is destroyed, the rest pending
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      ++ran;
    });
    for (int i = 0; i < 4; ++i) p.submit([&] { ++ran; });
  }
  CHECK(ran == 5);
}
