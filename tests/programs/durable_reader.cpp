// A separate process for the durable read model's crash test: opens the test
// bank's journal with the CountedBalances durable read model (tests/
// durable_rows.hpp), which catches up from its checkpoint; with --deposits N
// it also deposits N times (live events while it catches up). Prints
// "caught up <position>" once the read model has applied the journal's end,
// then exits 0. The test kills it at random moments before that.
// With --postgres URL --schema S: the journal in schema S on that server, the
// read store in S_read (tests/postgres_durable_crash_test.cpp); --open N
// first opens accounts acc-0 .. acc-N-1 (those open already stay as they are).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../durable_rows.hpp"
#include "../test_support.hpp"

int main(int argc, char** argv) {
  std::string db, postgres, schema;
  long deposits = 0, open = 0;
  std::size_t read_batch = 4096;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--db") db = argv[i + 1];
    else if (arg == "--deposits") deposits = std::atol(argv[i + 1]);
    else if (arg == "--read-batch") read_batch = std::strtoul(argv[i + 1], nullptr, 10);
    else if (arg == "--postgres") postgres = argv[i + 1];
    else if (arg == "--schema") schema = argv[i + 1];
    else if (arg == "--open") open = std::atol(argv[i + 1]);
  }
  testing_support::actor_env env;
  interlock::runtime_settings settings;
  settings.read_batch = read_batch;
  interlock::application_builder b{env.sys};
  b.settings(settings);
  if (postgres.empty()) b.sqlite(db);
  else b.postgres(postgres, schema);
  b.aggregate<testbank::Account>().projection<testbank::CountedBalances>();
  auto app = b.build();
  if (!app) {
    std::fprintf(stderr, "cannot start: %s\n", interlock::describe(app.error()).c_str());
    return 1;
  }
  for (long i = 0; i < open; ++i) app->dispatch("acc-" + std::to_string(i), testbank::Open{"owner"});
  std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> inflight;
  for (long i = 0; i < deposits; ++i) {
    testbank::Deposit d;
    d.amount = 1 + i % 7;
    d.tag = "live";
    inflight.push_back(app->dispatch_async("acc-" + std::to_string(i % 10), d));
  }
  std::uint64_t last = 0;
  for (auto& f : inflight) {
    auto r = f.get();
    if (!r) {
      std::fprintf(stderr, "deposit failed: %s\n", interlock::describe(r.error()).c_str());
      return 1;
    }
    last = std::max(last, r->position);
  }
  auto counted = app->query(testbank::CountedEvents{}, {.after = last, .timeout = std::chrono::minutes(5)});
  if (!counted) {
    std::fprintf(stderr, "query failed: %s\n", interlock::describe(counted.error()).c_str());
    return 1;
  }
  std::printf("caught up %llu\n", static_cast<unsigned long long>(last));
  return 0;
}
