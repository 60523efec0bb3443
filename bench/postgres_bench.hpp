// The bench on PostgreSQL (--postgres URL): a fresh schema per workload,
// dropped afterwards; a journal that records what the runtime asked of it
// (the size of every append batch, every page of the log it read); and the
// raw-libpq ceilings that repeat those same inserts and reads with no
// runtime, on the same server, in the same run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <interlock/persistence/journal.hpp>

#include "bench.hpp"

namespace bench::pg {

/// What the runtime asked of the journals one factory opened.
class journal_log {
 public:
  struct page {
    std::uint64_t from = 0;
    std::size_t max_count = 0;
    std::size_t got = 0;
  };
  void appended(std::size_t events, double seconds);
  void read(page p);
  /// Forgets what was recorded so far (e.g. the bank's opens).
  void clear();
  std::vector<std::size_t> batches() const;  // events per append() that carried any
  double append_seconds() const;             // the time spent in those append() calls
  std::vector<page> pages() const;           // scan_all / read_all calls, in order

 private:
  mutable std::mutex mutex_;
  std::vector<std::size_t> batches_;
  double append_seconds_ = 0;
  std::vector<page> pages_;
};

/// `inner`, with every journal it opens recording into `log`.
interlock::journal_factory recording(interlock::journal_factory inner, std::shared_ptr<journal_log> log);

/// A schema for one workload of this run: "interlock_bench_<run>_<what>".
std::string schema_for(const options& opts, const std::string& what);
/// Drops `schema` and all it holds; "" or what failed.
std::string drop_schema(const std::string& url, const std::string& schema);
/// Drops every schema of this run (a child that crashed leaves its own); "" or what failed.
std::string drop_run_schemas(const options& opts);
/// Connects once: "" if the server answers, else why not.
std::string check_server(const std::string& url);
/// "PostgreSQL 15.x; fsync=on, synchronous_commit=on, ..." for the header.
std::string describe_server(const std::string& url);

struct raw_outcome {
  double seconds = 0;
  std::uint64_t rows = 0;
};

/// The bank's deposits as the runtime's batches held them: `accounts` new
/// streams (their Opened rows first, untimed), then one deposit per account
/// per round, cut into transactions of `batches` events each, in a textbook
/// table of schema `schema` (created here). Each transaction is one round
/// trip: BEGIN, one prepared INSERT of the rows as unnested arrays, COMMIT.
/// Throws std::runtime_error on a failure.
raw_outcome raw_bank_inserts(const std::string& url, const std::string& schema, std::size_t accounts,
                             const std::vector<std::size_t>& batches);

/// The same pages of `schema`'s events table the runtime read (position
/// from, LIMIT max_count, in order), with a prepared SELECT of the columns a
/// catch-up uses, touching every value. Throws std::runtime_error on a failure.
raw_outcome raw_log_reads(const std::string& url, const std::string& schema,
                          const std::vector<journal_log::page>& pages);

}  // namespace bench::pg
