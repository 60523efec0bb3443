// The transfer sample: a saga moves money between accounts. One transfer
// completes, one is compensated (the credit is refused, so the debit is
// refunded), and with --kill-midway the program kills itself (kill -9) in
// the middle of a third: the next run finds it unfinished and the saga,
// resuming from what it stored, finishes it.
//
//   build/samples/transfer --db data/transfer.db --kill-midway   # dies mid-transfer
//   build/samples/transfer --db data/transfer.db --status        # finishes it; prints the saga's status
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>

#include "../sample_args.hpp"
#include "../sample_config.hpp"
#include "domain.hpp"

using namespace transfer;

namespace {

// -- a read model of the transfers, to find those an earlier run left open ------

struct UnfinishedTransfers {
  using result_type = std::vector<std::string>;
};

struct TransferBoard {
  using events = interlock::types<TransferRequested, TransferCompleted, TransferFailed>;
  using queries = interlock::types<UnfinishedTransfers>;
  std::map<std::string, bool> finished;  // by transfer id

  void on(const TransferRequested&, const interlock::event_envelope& env) { finished[env.aggregate_id] = false; }
  void on(const TransferCompleted&, const interlock::event_envelope& env) { finished[env.aggregate_id] = true; }
  void on(const TransferFailed&, const interlock::event_envelope& env) { finished[env.aggregate_id] = true; }
  std::vector<std::string> handle(const UnfinishedTransfers&) const {
    std::vector<std::string> out;
    for (auto& [id, done] : finished)
      if (!done) out.push_back(id);
    return out;
  }
};

std::string money(cents c) {
  char text[32];
  std::snprintf(text, sizeof text, "$%lld.%02lld", static_cast<long long>(c / 100), static_cast<long long>(c % 100));
  return text;
}

std::string owner_of(interlock::application& app, const std::string& account) {
  auto a = app.load_as_of<Account>(account);
  return a ? a->state.owner : account;
}

/// The transfer once the saga has finished it (or as it is after 10 s).
interlock::state_as_of<Transfer> wait_for(interlock::application& app, const std::string& id) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto t = app.load_as_of<Transfer>(id);
    if (t && (t->state.status != "requested" || std::chrono::steady_clock::now() > until)) return *t;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void print_outcome(interlock::application& app, const std::string& id) {
  auto t = wait_for(app, id).state;
  std::printf("  %s from %s to %s: %s%s%s\n", money(t.amount).c_str(), owner_of(app, t.from).c_str(),
              owner_of(app, t.to).c_str(), t.status.c_str(), t.reason.empty() ? "" : ": ", t.reason.c_str());
}

std::string open(interlock::application& app, const std::string& owner, cents balance, bool accepts_credits = true) {
  auto r = app.create(OpenAccount{owner, balance, accepts_credits});
  if (!r) {
    std::fprintf(stderr, "cannot open %s's account: %s\n", owner.c_str(), interlock::describe(r.error()).c_str());
    std::exit(1);
  }
  return r->aggregate_id;
}

std::string request(interlock::application& app, const std::string& from, const std::string& to, cents amount) {
  auto id = interlock::new_id();
  if (auto r = app.dispatch(id, RequestTransfer{from, to, amount}); !r) {
    std::fprintf(stderr, "cannot request a transfer: %s\n", interlock::describe(r.error()).c_str());
    std::exit(1);
  }
  return id;
}

// Transfers an earlier run left unfinished (it was killed): the saga resumed
// them when this run started; wait for them.
void finish_earlier(interlock::application& app) {
  auto open = app.query(UnfinishedTransfers{});  // answered once the board has caught up
  if (!open) {
    std::fprintf(stderr, "cannot list the transfers: %s\n", interlock::describe(open.error()).c_str());
    std::exit(1);
  }
  if (open->empty()) {
    std::printf("No transfer was left unfinished by an earlier run.\n");
    return;
  }
  std::printf("Finished %zu transfer(s) an earlier run left unfinished:\n", open->size());
  for (auto& id : *open) print_outcome(app, id);
}

// --kill-midway dies (kill -9) as the saga sends a credit, which it does only
// once the debit is stored: the debit is then in the journal and the credit
// is not, whatever the timing (waiting for the debit on the main thread would
// race the saga, which may finish the transfer first).
class kill_before_credit : public interlock::command_middleware {
 public:
  std::atomic<bool> armed{false};

  std::optional<interlock::command_result> before(interlock::command_envelope& cmd) override {
    if (!armed || cmd.command_type != interlock::type_name_of<Credit>()) return std::nullopt;
    std::printf("  $25.00 from Alice to Bob: debited; the program kills itself now (kill -9): run it again\n");
    std::fflush(stdout);
    std::raise(SIGKILL);
    std::abort();
  }
};

[[noreturn]] void kill_midway(interlock::application& app, kill_before_credit& killer, const std::string& from,
                              const std::string& to) {
  killer.armed = true;
  request(app, from, to, 2500);
  std::this_thread::sleep_for(std::chrono::seconds(60));  // the credit comes long before
  std::fprintf(stderr, "the saga sent no credit within 60 s\n");
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  sample_config cfg{"data/transfer.db"};
  cfg.add_flag("kill-midway", "kill the program (kill -9) in the middle of a transfer; the next run finishes it");
  cfg.parse_or_exit(argc, argv);
  caf::actor_system sys{cfg};
  interlock::application_builder builder{sys};
  builder.aggregate<Account>().aggregate<Transfer>().saga<TransferSaga>().projection<TransferBoard>();
  auto killer = std::make_shared<kill_before_credit>();
  if (cfg.flag("kill-midway")) builder.use(killer);
  auto app = builder.build();
  if (!app) {
    std::fprintf(stderr, "cannot start: %s\n", interlock::describe(app.error()).c_str());
    return 1;
  }
  std::printf("Interlock transfer sample - journal: %s\n\n", cfg.journal().c_str());
  finish_earlier(*app);

  auto alice = open(*app, "Alice", 10000);
  auto bob = open(*app, "Bob", 0);
  auto carol = open(*app, "Carol", 0, false);
  std::printf("\nTransfers of this run:\n");
  print_outcome(*app, request(*app, alice, bob, 3000));    // completes
  print_outcome(*app, request(*app, alice, carol, 2000));  // the credit is refused: refunded
  if (cfg.flag("kill-midway")) kill_midway(*app, *killer, alice, bob);

  std::printf("\nBalances: Alice %s, Bob %s, Carol %s\n", money(app->load_as_of<Account>(alice)->state.balance).c_str(),
              money(app->load_as_of<Account>(bob)->state.balance).c_str(),
              money(app->load_as_of<Account>(carol)->state.balance).c_str());
  if (cfg.status()) print_status(*app);
  return 0;
}
