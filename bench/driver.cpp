#include "driver.hpp"

#include <atomic>
#include <future>
#include <memory>

#include <caf/all.hpp>

#include <interlock/core/errors.hpp>

#include "bench.hpp"

namespace bench {
namespace {

// One driver actor's share: commands first, first + stride, first + 2 * stride, ...
struct drive_state {
  std::size_t first = 0;
  std::size_t stride = 1;
  std::size_t count = 0;  // how many commands this driver sends
  std::size_t window = 1;
  clock::time_point until = clock::time_point::max();  // no command is sent after it
  std::shared_ptr<const send_fn> send;
  // Touched only by the driver actor (until `done` is set):
  std::size_t sent = 0;
  std::size_t in_flight = 0;
  bool finished = false;
  clock::time_point end;
  drive_outcome out;
  std::promise<void> done;
  // Shared with the waiting thread:
  std::atomic<std::size_t> progress{0};
  std::atomic<bool> stopping{false};  // after a failure, or when the waiting thread gives up
};

// Only runs with a deadline read the clock here: the others stay as cheap as before.
bool out_of_time(const drive_state& st) {
  return st.until != clock::time_point::max() && clock::now() >= st.until;
}

void pump(caf::event_based_actor* self, const std::shared_ptr<drive_state>& st) {
  const bool late = out_of_time(*st);
  while (!st->stopping && !late && st->in_flight < st->window && st->sent < st->count) {
    const auto i = st->first + st->sent++ * st->stride;
    ++st->in_flight;
    const auto sent_at = clock::now();
    (*st->send)(self, i, [self, st, sent_at](const caf::error& err) {
      st->out.latencies_us.push_back(micros_between(sent_at, clock::now()));
      --st->in_flight;
      ++st->out.completed;
      st->progress.store(st->out.completed, std::memory_order_relaxed);
      if (err && st->out.error.empty()) {
        st->out.error = describe_error(err);
        st->stopping = true;
      }
      pump(self, st);
    });
  }
  if (st->in_flight == 0 && !st->finished && (st->stopping || late || st->sent == st->count)) {
    st->finished = true;
    st->end = clock::now();
    st->done.set_value();
    self->quit();
  }
}

}  // namespace

std::string describe_error(const caf::error& err) {
  if (interlock::code_of(err)) return interlock::describe(err);
  return caf::to_string(err);
}

drive_outcome drive(caf::actor_system& sys, std::size_t total, std::size_t window, send_fn send,
                    std::size_t drivers, std::chrono::seconds stall, clock::time_point until) {
  window = std::max<std::size_t>(1, window);
  drivers = std::clamp<std::size_t>(drivers, 1, std::min(window, std::max<std::size_t>(1, total)));
  auto shared_send = std::make_shared<const send_fn>(std::move(send));
  std::vector<std::shared_ptr<drive_state>> states;
  std::vector<std::future<void>> finished;
  for (std::size_t k = 0; k < drivers; ++k) {
    auto st = std::make_shared<drive_state>();
    st->first = k;
    st->stride = drivers;
    st->count = total > k ? (total - k + drivers - 1) / drivers : 0;
    st->window = window / drivers + (k < window % drivers ? 1 : 0);
    st->until = until;
    st->send = shared_send;
    st->out.latencies_us.reserve(st->count);
    finished.push_back(st->done.get_future());
    states.push_back(std::move(st));
  }
  const auto start = clock::now();
  for (auto& st : states)
    sys.spawn([st](caf::event_based_actor* self) -> caf::behavior {
      pump(self, st);
      return {[](caf::ok_atom) {}};  // replies arrive as response handlers, not through this
    });
  // Watch for a stall: the runtime's own timeouts should fail a stuck command
  // long before this fires.
  auto progress = [&] {
    std::size_t n = 0;
    for (auto& st : states) n += st->progress.load(std::memory_order_relaxed);
    return n;
  };
  std::size_t seen = 0;
  auto last_change = clock::now();
  for (auto& f : finished) {
    while (f.wait_for(std::chrono::milliseconds{250}) != std::future_status::ready) {
      if (auto now_seen = progress(); now_seen != seen) {
        seen = now_seen;
        last_change = clock::now();
      } else if (clock::now() - last_change > stall) {
        for (auto& st : states) st->stopping = true;  // the caller's objects may go away: send nothing more
        drive_outcome out;
        out.completed = seen;
        out.error = "stalled: no reply for " + std::to_string(stall.count()) + " s after " + std::to_string(seen) +
                    " of " + std::to_string(total) + " replies (window " + std::to_string(window) + ")";
        std::fprintf(stderr, "  !! %s\n", out.error.c_str());
        return out;
      }
    }
  }
  drive_outcome out;
  auto end = start;
  out.latencies_us.reserve(total);
  for (auto& st : states) {
    end = std::max(end, st->end);
    out.completed += st->out.completed;
    if (out.error.empty()) out.error = st->out.error;
    out.latencies_us.insert(out.latencies_us.end(), st->out.latencies_us.begin(), st->out.latencies_us.end());
  }
  out.seconds = std::chrono::duration<double>(end - start).count();
  return out;
}

}  // namespace bench
