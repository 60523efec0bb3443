// saga: transfers end to end through a saga. A transfer is a StartTransfer to
// a desk aggregate (one per transfer), which emits TransferRequested; the
// Transfer saga then debits the source account, on Debited credits the
// target, on Credited tells the desk it is done (TransferCompleted) and
// completes. A transfer counts as done when its TransferCompleted is
// committed: an in-memory projection of the bench (TransferClock) stamps the
// time as the event reaches it and tells the driver actor, which keeps
// `window` transfers in flight. Latency: StartTransfer dispatched to that stamp.
// 10,000 transfers (1,000 with --quick) after `window` untimed, 1,000 accounts
// (opened untimed), transfer i from account 2i mod 1,000 to 2i + 1 mod 1,000.
//
// Ceiling, in the same run, on a journal file of its own with the same
// settings: the same four commands per transfer (start, debit, credit,
// complete) sent by the bench itself, each from the reply of the one before,
// the same number of transfers in flight; no saga, no projection. A second
// chain (`keyed_*`) sends debit, credit and complete under command ids
// (idempotency keys), as the saga's driver does: it tells how much of the
// gap is the keys and how much the saga's own path (the read store's steps
// and outbox).
#include <atomic>
#include <future>
#include <memory>

#include <interlock/persistence/read_store.hpp>
#include <interlock/runtime/actor_api.hpp>

#include "runtime_host.hpp"

namespace bench {
namespace transfer {

// -- the domain (tests/transfer_domain.hpp, cut down to the happy path) ---------

struct Open {
  using result_type = void;
  std::int64_t balance = 0;
};
struct Debit {
  using result_type = void;
  std::int64_t amount = 0;
};
struct Credit {
  using result_type = void;
  std::int64_t amount = 0;
};
struct Opened {
  std::int64_t balance = 0;
};
struct Debited {
  std::int64_t amount = 0;
};
struct Credited {
  std::int64_t amount = 0;
};
BENCH_JSON(Open, balance)
BENCH_JSON(Debit, amount)
BENCH_JSON(Credit, amount)
BENCH_JSON(Opened, balance)
BENCH_JSON(Debited, amount)
BENCH_JSON(Credited, amount)

struct Account : interlock::aggregate<Account> {
  using commands = interlock::types<Open, Debit, Credit>;
  using events = interlock::types<Opened, Debited, Credited>;
  bool open = false;
  std::int64_t balance = 0;

  void handle(const Open& c) {
    if (open) throw interlock::rejected{"account " + id() + " is already open"};
    emit(Opened{c.balance});
  }
  void handle(const Debit& c) {
    require_open();
    if (balance < c.amount) throw interlock::rejected{"insufficient funds in " + id()};
    emit(Debited{c.amount});
  }
  void handle(const Credit& c) {
    require_open();
    emit(Credited{c.amount});
  }
  void apply(const Opened& e) {
    open = true;
    balance = e.balance;
  }
  void apply(const Debited& e) { balance -= e.amount; }
  void apply(const Credited& e) { balance += e.amount; }

 private:
  void require_open() const {
    if (!open) throw interlock::rejected{"account " + id() + " is not open"};
  }
};

struct StartTransfer {
  using result_type = void;
  std::string from, to;
  std::int64_t amount = 0;
};
struct CompleteTransfer {
  using result_type = void;
  std::int64_t amount = 0;
};
struct TransferRequested {
  std::string from, to;
  std::int64_t amount = 0;
};
struct TransferCompleted {
  std::int64_t amount = 0;
};
BENCH_JSON(StartTransfer, from, to, amount)
BENCH_JSON(CompleteTransfer, amount)
BENCH_JSON(TransferRequested, from, to, amount)
BENCH_JSON(TransferCompleted, amount)

struct TransferDesk : interlock::aggregate<TransferDesk> {
  using commands = interlock::types<StartTransfer, CompleteTransfer>;
  using events = interlock::types<TransferRequested, TransferCompleted>;
  bool requested = false, completed = false;

  void handle(const StartTransfer& c) {
    if (requested) throw interlock::rejected{"transfer " + id() + " was requested before"};
    emit(TransferRequested{c.from, c.to, c.amount});
  }
  void handle(const CompleteTransfer& c) {
    if (!requested || completed) throw interlock::rejected{"transfer " + id() + " is not in progress"};
    emit(TransferCompleted{c.amount});
  }
  void apply(const TransferRequested&) { requested = true; }
  void apply(const TransferCompleted&) { completed = true; }
};

struct Transfer : interlock::saga<Transfer> {
  using events = interlock::types<TransferRequested, Debited, Credited>;
  using commands = interlock::types<Debit, Credit, CompleteTransfer>;
  std::string desk, from, to;
  std::int64_t amount = 0;

  void start(const TransferRequested& e, const interlock::event_envelope& env) {
    desk = env.aggregate_id;
    from = e.from;
    to = e.to;
    amount = e.amount;
    dispatch(from, Debit{amount});
  }
  void on(const Debited&) { dispatch(to, Credit{amount}); }
  void on(const Credited&) {
    dispatch(desk, CompleteTransfer{amount});
    complete();
  }
};
BENCH_JSON(Transfer, desk, from, to, amount)

}  // namespace transfer

namespace {

// The transfer domain's names, not bench_domain.hpp's Account and Open.
using transfer::Account;
using transfer::CompleteTransfer;
using transfer::Credit;
using transfer::Debit;
using transfer::Open;
using transfer::StartTransfer;
using transfer::Transfer;
using transfer::TransferCompleted;
using transfer::TransferDesk;

constexpr std::size_t window = 64;       // transfers in flight
constexpr std::size_t accounts = 1'000;  // transfer i: account 2i mod A to 2i + 1 mod A
constexpr std::int64_t opening_balance = 1'000'000'000;
constexpr std::chrono::seconds stall{60};  // no transfer done for this long: the run fails

std::string account_id(std::size_t a) { return "acct-" + std::to_string(a); }
std::string desk_id(std::size_t i) { return "t-" + std::to_string(i); }
std::string from_of(std::size_t i) { return account_id((2 * i) % accounts); }
std::string to_of(std::size_t i) { return account_id((2 * i + 1) % accounts); }

// Where each transfer's start and end are written: started by the driver
// actor, finished by the projection, read by the driver once it is told.
struct completion_board {
  explicit completion_board(std::size_t n) : started(n), finished(n) {}
  std::vector<clock::time_point> started, finished;
  caf::actor driver;  // set by the driver before it sends anything
  std::atomic<std::size_t> unknown{0};  // TransferCompleted of a desk the board does not know
};

// The bench's instrument: stamps each TransferCompleted as it reaches the
// projection (live, right after the writer published its commit).
struct TransferClock {
  using events = interlock::types<TransferCompleted>;
  using queries = interlock::types<>;
  std::shared_ptr<completion_board> board;

  void on(const TransferCompleted&, const interlock::event_envelope& env) {
    const auto now = clock::now();
    std::size_t i = 0;
    try {
      i = std::stoull(env.aggregate_id.substr(2));
    } catch (...) {
      i = board->finished.size();
    }
    if (i >= board->finished.size()) {
      ++board->unknown;
      return;
    }
    board->finished[i] = now;
    caf::anon_send(board->driver, static_cast<std::uint64_t>(i));
  }
};

// One batch of transfers [first, first + count): each a StartTransfer, done
// when the board reports it; `window` in flight.
struct saga_drive_state {
  std::shared_ptr<completion_board> board;
  const interlock::application* app = nullptr;
  std::size_t first = 0, count = 0;
  std::size_t sent = 0, done = 0, in_flight = 0;
  clock::time_point start, end;
  std::vector<double> latencies_us;
  std::string error;
  std::atomic<std::size_t> progress{0};
  std::atomic<bool> stopping{false};
  std::promise<void> finished;
};

void saga_pump(caf::event_based_actor* self, const std::shared_ptr<saga_drive_state>& st) {
  while (!st->stopping && st->in_flight < window && st->sent < st->count) {
    const auto i = st->first + st->sent++;
    ++st->in_flight;
    st->board->started[i] = clock::now();
    interlock::async_dispatch(self, *st->app, desk_id(i), StartTransfer{from_of(i), to_of(i), 1},
                              [self, st, i](caf::expected<interlock::receipt<void>> r) {
                                if (r || !st->error.empty()) return;
                                st->error = "StartTransfer " + desk_id(i) + ": " + describe_error(r.error());
                                st->stopping = true;
                                std::fprintf(stderr, "  !! %s\n", st->error.c_str());
                                st->finished.set_value();
                                self->quit();
                              });
  }
}

struct saga_outcome {
  double seconds = 0;
  std::vector<double> latencies_us;
  std::string error;
};

saga_outcome drive_saga(caf::actor_system& sys, const interlock::application& app,
                        const std::shared_ptr<completion_board>& board, std::size_t first, std::size_t count) {
  auto st = std::make_shared<saga_drive_state>();
  st->board = board;
  st->app = &app;
  st->first = first;
  st->count = count;
  st->latencies_us.reserve(count);
  auto finished = st->finished.get_future();
  sys.spawn([st](caf::event_based_actor* self) -> caf::behavior {
    st->board->driver = caf::actor_cast<caf::actor>(self);
    st->start = clock::now();
    saga_pump(self, st);
    return {[self, st](std::uint64_t i) {
      if (i < st->first || i >= st->first + st->count || st->stopping) return;
      st->latencies_us.push_back(micros_between(st->board->started[i], st->board->finished[i]));
      --st->in_flight;
      ++st->done;
      st->progress.store(st->done, std::memory_order_relaxed);
      if (st->done == st->count) {
        st->end = clock::now();
        st->finished.set_value();
        self->quit();
        return;
      }
      saga_pump(self, st);
    }};
  });
  saga_outcome out;
  std::size_t seen = 0;
  auto last_change = clock::now();
  while (finished.wait_for(std::chrono::milliseconds{250}) != std::future_status::ready) {
    if (auto now_seen = st->progress.load(std::memory_order_relaxed); now_seen != seen) {
      seen = now_seen;
      last_change = clock::now();
    } else if (clock::now() - last_change > stall) {
      st->stopping = true;
      out.error = "stalled: no transfer done for " + std::to_string(stall.count()) + " s after " +
                  std::to_string(seen) + " of " + std::to_string(count);
      if (board->unknown) out.error += " (" + std::to_string(board->unknown.load()) + " unknown completions)";
      return out;
    }
  }
  if (!st->error.empty()) {
    out.error = st->error;
    return out;
  }
  out.seconds = std::chrono::duration<double>(st->end - st->start).count();
  out.latencies_us = std::move(st->latencies_us);
  return out;
}

// Opens the accounts (untimed), `window` at a time.
std::string open_accounts(caf::actor_system& sys, const interlock::application& app) {
  auto open = [&](caf::event_based_actor* self, std::size_t a, reply_fn done) {
    interlock::async_dispatch(self, app, account_id(a), Open{opening_balance}, report_to(std::move(done)));
  };
  auto opened = drive(sys, accounts, window, open);
  return opened.error.empty() ? std::string{} : "opening the accounts: " + opened.error;
}

struct phase {
  double seconds = 0;
  double cpu_seconds = 0;
  std::vector<double> latencies_us;
  std::string error;
};

// The ceiling: the four commands of transfer i sent one after the other by
// the bench, each from the reply of the one before. `keyed`: debit, credit
// and complete carry command ids, as a saga's commands do.
phase run_chain(const options& opts, const std::string& path, std::size_t warmup, std::size_t transfers, bool keyed) {
  phase out;
  runtime_host host;
  interlock::application_builder builder{host.sys};
  builder.aggregate<Account>().aggregate<TransferDesk>().settings(settings_for(opts, path));
  auto app = builder.build();
  if (!app) {
    out.error = "cannot start the application: " + describe_error(app.error());
    return out;
  }
  if (out.error = open_accounts(host.sys, *app); !out.error.empty()) return out;
  auto keyed_opts = [keyed](std::size_t i, const char* step) {
    interlock::dispatch_options o;
    o.correlation_id = desk_id(i);
    if (keyed) o.command_id = "chain:" + desk_id(i) + ":" + step;
    return o;
  };
  auto send = [&](std::size_t offset) {
    return [&, offset](caf::event_based_actor* self, std::size_t n, reply_fn done) {
      const auto i = n + offset;
      auto fail_or = [done](auto next) {
        return [done, next](auto&& reply) mutable {
          if (!reply) return done(reply.error());
          next();
        };
      };
      interlock::dispatch_options start;
      start.correlation_id = desk_id(i);
      interlock::async_dispatch(
          self, *app, desk_id(i), StartTransfer{from_of(i), to_of(i), 1},
          fail_or([=, &app]() mutable {
            interlock::async_dispatch(
                self, *app, from_of(i), Debit{1},
                fail_or([=, &app]() mutable {
                  interlock::async_dispatch(
                      self, *app, to_of(i), Credit{1},
                      fail_or([=, &app]() mutable {
                        interlock::async_dispatch(self, *app, desk_id(i), CompleteTransfer{1}, report_to(done),
                                                  keyed_opts(i, "complete"));
                      }),
                      keyed_opts(i, "credit"));
                }),
                keyed_opts(i, "debit"));
          }),
          start);
    };
  };
  if (auto warm = drive(host.sys, warmup, window, send(0)); !warm.error.empty()) {
    out.error = "warming up: " + warm.error;
    return out;
  }
  const auto cpu_before = process_cpu_seconds();
  auto timed = drive(host.sys, transfers, window, send(warmup));
  out.cpu_seconds = process_cpu_seconds() - cpu_before;
  if (!timed.error.empty()) {
    out.error = "after " + std::to_string(timed.completed) + " transfers: " + timed.error;
    return out;
  }
  out.seconds = timed.seconds;
  out.latencies_us = std::move(timed.latencies_us);
  return out;
}

phase run_saga(const options& opts, const std::string& path, std::size_t warmup, std::size_t transfers) {
  phase out;
  runtime_host host;
  auto board = std::make_shared<completion_board>(warmup + transfers);
  interlock::application_builder builder{host.sys};
  builder.aggregate<Account>()
      .aggregate<TransferDesk>()
      .saga<Transfer>()
      .projection<TransferClock>(board)
      .settings(settings_for(opts, path));
  auto app = builder.build();
  if (!app) {
    out.error = "cannot start the application: " + describe_error(app.error());
    return out;
  }
  if (out.error = open_accounts(host.sys, *app); !out.error.empty()) return out;
  if (auto warm = drive_saga(host.sys, *app, board, 0, warmup); !warm.error.empty()) {
    out.error = "warming up: " + warm.error;
    return out;
  }
  const auto cpu_before = process_cpu_seconds();
  auto timed = drive_saga(host.sys, *app, board, warmup, transfers);
  out.cpu_seconds = process_cpu_seconds() - cpu_before;
  if (!timed.error.empty()) {
    out.error = timed.error;
    return out;
  }
  out.seconds = timed.seconds;
  out.latencies_us = std::move(timed.latencies_us);
  return out;
}

}  // namespace

result workload_saga(const options& opts, const std::string& dir) {
  result r;
  r.workload = "saga";
  r.journal = opts.journal_name();
  const auto transfers = std::size_t{opts.quick ? 1'000u : 10'000u};
  const auto warmup = window;
  const auto path = dir + "/saga.db";
  const auto chain_path = dir + "/saga.chain.db";
  const auto keyed_path = dir + "/saga.keyed.db";
  const std::string paths[] = {path, interlock::read_store_path_for(path), chain_path,
                               interlock::read_store_path_for(chain_path), keyed_path,
                               interlock::read_store_path_for(keyed_path)};
  for (auto& p : paths) remove_database(p);
  [&] {
    // The ceilings first, the one the ratio is against right before the
    // saga, as main.cpp runs each ceiling right before its workload.
    auto keyed = run_chain(opts, keyed_path, warmup, transfers, true);
    if (!keyed.error.empty()) {
      r.error = "the keyed command chain: " + keyed.error;
      return;
    }
    auto chain = run_chain(opts, chain_path, warmup, transfers, false);
    if (!chain.error.empty()) {
      r.error = "the ceiling (the command chain): " + chain.error;
      return;
    }
    auto saga = run_saga(opts, path, warmup, transfers);
    if (!saga.error.empty()) {
      r.error = "the saga: " + saga.error;
      return;
    }
    const auto n = static_cast<double>(transfers);
    r.set_rate(transfers, saga.seconds);
    set_latencies(r, std::move(saga.latencies_us));
    r.extra["cpu_us_per_transfer"] = saga.cpu_seconds * 1e6 / n;
    auto report = [&](const std::string& prefix, phase& p) {
      const auto rate = p.seconds > 0 ? n / p.seconds : 0;
      r.extra[prefix + "events_per_s"] = rate;
      r.extra[prefix + "seconds"] = p.seconds;
      r.extra[prefix + "cpu_us_per_transfer"] = p.cpu_seconds * 1e6 / n;
      if (!p.latencies_us.empty()) {
        r.extra[prefix + "p50_us"] = percentile(p.latencies_us, 50);
        r.extra[prefix + "p99_us"] = percentile(p.latencies_us, 99);
      }
      return rate;
    };
    const auto ceiling_rate = report("ceiling_", chain);
    const auto keyed_rate = report("keyed_", keyed);
    r.ratio_to_ceiling = ceiling_rate > 0 ? r.events_per_s / ceiling_rate : 0;
    r.extra["ratio_to_keyed"] = keyed_rate > 0 ? r.events_per_s / keyed_rate : 0;
    r.ceiling = "the command chain";
    r.extra["transfers"] = n;
    r.extra["window"] = static_cast<double>(window);
    r.extra["accounts"] = static_cast<double>(accounts);
    r.notes.push_back(std::to_string(transfers) + " transfers after " + std::to_string(warmup) +
                      " untimed, window " + std::to_string(window) + ", " + std::to_string(accounts) +
                      " accounts; done = TransferCompleted reaches a projection; ceiling: the same 4 commands "
                      "sent by the bench, each from the previous reply");
  }();
  if (!opts.keep)
    for (auto& p : paths) remove_database(p);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
