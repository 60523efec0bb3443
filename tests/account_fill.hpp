// Fills a journal for the crash tests: ten accounts, acc-0..acc-9, each
// Opened, then deposits of 1..9, written straight through the journal API in
// large batches (no application: quick for 100,000 events).
#pragma once

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <interlock/persistence/sqlite_journal.hpp>

namespace testing_support {

inline void fill_accounts(const std::string& db, std::size_t events) {
  auto j = interlock::open_sqlite_journal(interlock::sqlite_options{db});
  REQUIRE(j);
  std::vector<std::uint64_t> versions(10, 0);
  std::size_t written = 0;
  while (written < events) {
    std::vector<interlock::append_request> batch;
    for (std::size_t a = 0; a < 10 && written < events; ++a) {
      interlock::append_request req;
      req.aggregate_type = "Account";
      req.aggregate_id = "acc-" + std::to_string(a);
      req.expected_version = versions[a];
      for (int k = 0; k < 500 && written < events; ++k, ++written) {
        if (versions[a] + req.events.size() == 0) req.events.push_back({"Opened", 1, R"({"owner":"o"})"});
        else req.events.push_back({"Deposited", 1, R"({"amount":)" + std::to_string(1 + written % 9) + R"(,"tag":"f"})"});
      }
      versions[a] += req.events.size();
      batch.push_back(std::move(req));
    }
    for (auto& r : (*j)->append(batch)) REQUIRE(r);
  }
}

}  // namespace testing_support
