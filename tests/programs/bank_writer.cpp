// A separate process for restart and crash tests: opens the test bank on a
// SQLite file (--db FILE) or a PostgreSQL schema (--postgres URL --schema S),
// opens `accounts` accounts (ids acc-0..), deposits into them round-robin
// (deposit i tagged i), and prints one line per acknowledged command:
//   ack <account> <version> <position> <balance>
// With --idempotent-every N, deposit i with i % N == 0 carries the command id
// <id-prefix>-<i> (an idempotency key, recorded with its event).
// With --deposits 0 it runs until killed. Exit code 0 when done.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../bank_app.hpp"

int main(int argc, char** argv) {
  std::string db, postgres_url, schema = "interlock", id_prefix = "dep";
  long idempotent_every = 0;
  int accounts = 10;
  long deposits = 10;
  int window = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--db") db = argv[i + 1];
    else if (arg == "--accounts") accounts = std::atoi(argv[i + 1]);
    else if (arg == "--deposits") deposits = std::atol(argv[i + 1]);
    else if (arg == "--window") window = std::atoi(argv[i + 1]);
    else if (arg == "--postgres") postgres_url = argv[i + 1];
    else if (arg == "--schema") schema = argv[i + 1];
    else if (arg == "--idempotent-every") idempotent_every = std::atol(argv[i + 1]);
    else if (arg == "--id-prefix") id_prefix = argv[i + 1];
  }
  testing_support::actor_env env;
  auto app = postgres_url.empty() ? testing_support::start_bank(env.sys, db)
                                  : testing_support::start_bank_on_postgres(env.sys, postgres_url, schema);
  if (!app) {
    std::fprintf(stderr, "cannot start: %s\n", interlock::describe(app.error()).c_str());
    return 1;
  }
  for (int a = 0; a < accounts; ++a) app->dispatch("acc-" + std::to_string(a), testbank::Open{"owner"});
  // Keep `window` commands in flight; print each acknowledgement as it lands.
  std::vector<std::pair<std::string, std::future<caf::expected<interlock::receipt<std::int64_t>>>>> inflight;
  auto drain = [&](std::size_t keep) {
    while (inflight.size() > keep) {
      auto& [id, fut] = inflight.front();
      auto r = fut.get();
      if (!r) {
        std::fprintf(stderr, "failed: %s\n", interlock::describe(r.error()).c_str());
        std::exit(1);
      }
      std::printf("ack %s %llu %llu %lld\n", id.c_str(), static_cast<unsigned long long>(r->version),
                  static_cast<unsigned long long>(r->position), static_cast<long long>(r->value));
      std::fflush(stdout);
      inflight.erase(inflight.begin());
    }
  };
  for (long i = 0; deposits == 0 || i < deposits; ++i) {
    auto id = "acc-" + std::to_string(i % accounts);
    testbank::Deposit d;
    d.amount = 1;
    d.tag = std::to_string(i);
    interlock::dispatch_options opts;
    if (idempotent_every > 0 && i % idempotent_every == 0) opts.command_id = id_prefix + "-" + std::to_string(i);
    inflight.emplace_back(id, app->dispatch_async(id, d, opts));
    drain(static_cast<std::size_t>(window));
  }
  drain(0);
  return 0;
}
