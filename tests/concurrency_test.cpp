#include <catch2/catch.hpp>

#include <thread>

#include <interlock/persistence/sqlite_journal.hpp>

#include "bank_app.hpp"

using namespace testbank;
using namespace testing_support;

// 1,000 aggregates, 4 threads each sending every aggregate 5 deposits with
// many commands in flight: per-aggregate order per sender, exact totals,
// gapless versions and positions.
TEST_CASE("concurrency: 1,000 aggregates driven from several threads", "[concurrency]") {
  constexpr int accounts = 1000, threads = 4, rounds = 5;
  temp_dir dir;
  auto db = dir.file("bank.db");
  actor_env env;
  auto app = start_bank(env.sys, db);
  REQUIRE(app);
  auto id_of = [](int a) { return "acc-" + std::to_string(a); };
  {
    std::vector<std::future<caf::expected<interlock::receipt<void>>>> opens;
    for (int a = 0; a < accounts; ++a) opens.push_back(app->dispatch_async(id_of(a), Open{"o"}));
    for (auto& f : opens) REQUIRE(f.get());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::vector<std::future<caf::expected<interlock::receipt<std::int64_t>>>> pending;
      for (int r = 0; r < rounds; ++r)
        for (int a = 0; a < accounts; ++a) {
          Deposit d;
          d.amount = t + 1;
          d.tag = std::to_string(t) + ":" + std::to_string(r);
          pending.push_back(app->dispatch_async(id_of(a), d));
        }
      for (auto& f : pending)
        if (!f.get()) ++failures;
    });
  for (auto& w : workers) w.join();
  REQUIRE(failures == 0);

  std::uint64_t expected_events = accounts + accounts * threads * rounds;
  auto totals = app->query(GetTotals{}, {.after = expected_events});
  REQUIRE(totals);
  REQUIRE(totals->size() == accounts);
  const std::int64_t per_account = rounds * (1 + 2 + 3 + 4);
  for (auto& [id, balance] : *totals) REQUIRE(balance == per_account);

  auto journal = interlock::open_sqlite_journal({db});
  REQUIRE(journal);
  auto all = (*journal)->read_all(1, expected_events + 10);
  REQUIRE(all);
  REQUIRE(all->size() == expected_events);
  for (std::size_t i = 0; i < all->size(); ++i) REQUIRE((*all)[i].position == i + 1);

  for (int a = 0; a < accounts; a += 37) {
    auto stream = (*journal)->read_stream("Account", id_of(a), 1, 1000);
    REQUIRE(stream);
    REQUIRE(stream->size() == 1 + threads * rounds);
    std::vector<int> next_round(threads, 0);
    for (std::size_t v = 0; v < stream->size(); ++v) {
      auto& e = (*stream)[v];
      REQUIRE(e.version == v + 1);
      if (e.event_type != "Deposited") continue;
      auto tag = nlohmann::json::parse(e.payload).at("tag").get<std::string>();
      auto t = std::stoi(tag.substr(0, tag.find(':')));
      auto r = std::stoi(tag.substr(tag.find(':') + 1));
      REQUIRE(r == next_round[t]);  // each sender's commands applied in the order it sent them
      ++next_round[t];
    }
  }
}
