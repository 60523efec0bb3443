// Filling a journal directly through the journal API (no actors), for the
// replay and catch-up workloads: big batches, many events per append_request.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/memory_journal.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

#include "bench.hpp"
#include "bench_domain.hpp"
#include "driver.hpp"

namespace bench {

/// The factory the workload's application will also use: in-memory journals
/// from one factory share one store (keep one journal open to keep it alive).
inline interlock::journal_factory journal_factory_for(const options& opts, const std::string& path) {
  if (opts.memory) return interlock::memory_journal_factory();
  interlock::sqlite_options sqlite{path, opts.sync};
  sqlite.category_copies = opts.category_copies;
  return interlock::sqlite_journal_factory(std::move(sqlite));
}

/// The events number `from`.. of account `account`'s stream (1-based versions).
inline std::vector<interlock::event_record> account_events(std::size_t account, std::uint64_t from, std::size_t n) {
  std::vector<interlock::event_record> events;
  events.reserve(n);
  for (std::uint64_t v = from; v < from + n; ++v) {
    if (v == 1) events.push_back({"Opened", 1, opened_payload(account)});
    else events.push_back({"Deposited", 1, deposited_payload(account, v - 2)});
  }
  return events;
}

/// Appends one batch; the first failure as text, empty if all committed.
inline std::string append_all(interlock::journal& j, const std::vector<interlock::append_request>& batch) {
  auto results = j.append(batch);
  for (auto& res : results)
    if (!res) return "filling the journal: " + describe_error(res.error());
  return {};
}

/// Fills `j` with `n` events over `accounts` new accounts (an Opened, then
/// Deposited), in rounds of up to 100 events per account, one transaction
/// per round. The first failure as text, empty if all committed.
inline std::string fill_accounts(interlock::journal& j, std::size_t n, std::size_t accounts) {
  std::vector<std::string> ids;
  std::vector<std::uint64_t> versions(accounts, 0), targets(accounts, n / accounts);
  for (std::size_t a = 0; a < accounts; ++a) {
    ids.push_back(interlock::new_id());
    if (a < n % accounts) ++targets[a];
  }
  constexpr std::uint64_t chunk = 100;
  for (bool more = true; more;) {
    more = false;
    std::vector<interlock::append_request> batch;
    for (std::size_t a = 0; a < accounts; ++a) {
      const auto count = std::min(chunk, targets[a] - versions[a]);
      if (count == 0) continue;
      batch.push_back({"Account", ids[a], versions[a], account_events(a, versions[a] + 1, count), "", "", ""});
      versions[a] += count;
      more = more || versions[a] < targets[a];
    }
    if (batch.empty()) break;
    if (auto err = append_all(j, batch); !err.empty()) return err;
  }
  return {};
}

}  // namespace bench
