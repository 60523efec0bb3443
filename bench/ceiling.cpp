// The ceiling: raw SQLite with the journal's file settings, no actors, no
// runtime. Same pragmas as persistence/sqlite_journal.cpp (WAL, the chosen
// synchronous level, foreign_keys on, a 5 s busy timeout, everything else
// SQLite's defaults), the textbook event table, the bank's rows.
#include <atomic>
#include <stdexcept>
#include <thread>

#include <sqlite3.h>

#include <interlock/runtime/ulid.hpp>

#include "bench.hpp"
#include "bench_domain.hpp"

namespace bench {

volatile std::uint64_t ceiling_read_sink = 0;  // the read ceiling's checksum goes here

namespace {

constexpr const char* event_table = R"sql(
CREATE TABLE IF NOT EXISTS events (
  global_position INTEGER PRIMARY KEY,
  stream_id TEXT,
  version INTEGER,
  type TEXT,
  payload TEXT,
  recorded_at INTEGER,
  UNIQUE (stream_id, version)))sql";

struct sqlite_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class database {
 public:
  database(const std::string& path, interlock::sync_mode sync) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
      fail("open");
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = " + std::to_string(static_cast<int>(sync)));
    exec("PRAGMA foreign_keys = ON");
  }
  ~database() { sqlite3_close_v2(db_); }
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw sqlite_failure{"raw SQLite on '" + path_ + "': " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "no handle")};
  }
  sqlite3* get() const { return db_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

class statement {
 public:
  statement(database& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      db.fail(std::string{"prepare "} + sql);
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  /// Steps once; true for a row, false when done; throws on an error.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) db_.fail("step");
    return false;
  }
  void run() {  // a statement without rows, reset for reuse
    step();
    sqlite3_reset(stmt_);
  }
  void reset() { sqlite3_reset(stmt_); }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

struct row {
  const std::string* stream_id;
  std::int64_t version;
  const char* type;
  std::string payload;
};

// The bank's rows: per account an Opened (version 1) then `deposits` Deposited.
// Sequential: account after account. Interleaved: all opens, then one deposit
// per account per round - the order concurrent aggregate actors commit in.
std::vector<row> bank_rows(const std::vector<std::string>& ids, std::size_t deposits, bool interleaved) {
  std::vector<row> rows;
  rows.reserve(ids.size() * (deposits + 1));
  auto add = [&](std::size_t a, std::size_t version) {
    if (version == 1) rows.push_back({&ids[a], 1, "Opened", opened_payload(a)});
    else rows.push_back({&ids[a], static_cast<std::int64_t>(version), "Deposited", deposited_payload(a, version - 2)});
  };
  if (interleaved) {
    for (std::size_t v = 1; v <= deposits + 1; ++v)
      for (std::size_t a = 0; a < ids.size(); ++a) add(a, v);
  } else {
    for (std::size_t a = 0; a < ids.size(); ++a)
      for (std::size_t v = 1; v <= deposits + 1; ++v) add(a, v);
  }
  return rows;
}

class event_writer {
 public:
  explicit event_writer(database& db)
      : db_(db),
        begin_(db, "BEGIN IMMEDIATE"),
        commit_(db, "COMMIT"),
        insert_(db,
                "INSERT INTO events (global_position, stream_id, version, type, payload, recorded_at)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6)") {}

  /// Writes rows [first, last) in one transaction, positions continuing from the last one.
  void write(const std::vector<row>& rows, std::size_t first, std::size_t last) {
    begin_.run();
    const auto now = now_us();
    for (std::size_t i = first; i < last; ++i) {
      const auto& r = rows[i];
      insert_.bind(1, static_cast<std::int64_t>(++position_));
      insert_.bind(2, *r.stream_id);
      insert_.bind(3, r.version);
      sqlite3_bind_text(insert_.get(), 4, r.type, -1, SQLITE_STATIC);
      insert_.bind(5, r.payload);
      insert_.bind(6, now);
      insert_.run();
    }
    commit_.run();
  }

  /// All rows, `per_transaction` at a time.
  void write_all(const std::vector<row>& rows, std::size_t per_transaction) {
    for (std::size_t i = 0; i < rows.size(); i += per_transaction)
      write(rows, i, std::min(rows.size(), i + per_transaction));
  }

 private:
  database& db_;
  statement begin_, commit_, insert_;
  std::int64_t position_ = 0;
};

std::vector<std::string> new_ids(std::size_t n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (std::size_t i = 0; i < n; ++i) ids.push_back(interlock::new_id());
  return ids;
}

template <class Body>
result guarded(const char* workload, const options& opts, const std::string& path, Body body) {
  result r;
  r.workload = workload;
  r.journal = "raw sqlite";
  try {
    body(r);
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

result bank_ceiling(const char* workload, bool interleaved, const options& opts, const std::string& dir) {
  const auto path = dir + "/" + workload + ".db";
  return guarded(workload, opts, path, [&](result& r) {
    remove_database(path);
    const auto ids = new_ids(opts.accounts);
    const auto rows = bank_rows(ids, opts.deposits, interleaved);
    database db{path, opts.sync};
    db.exec(event_table);
    event_writer writer{db};
    const auto t0 = clock::now();
    writer.write_all(rows, 1024);
    r.set_rate(rows.size(), seconds_since(t0));
    r.notes.push_back(std::to_string(opts.accounts) + " accounts x (1 open + " + std::to_string(opts.deposits) +
                      " deposits), " + (interleaved ? "interleaved" : "sequential") +
                      " stream order, 1,024 rows per transaction");
  });
}

// One stream of n rows (Account's stream, as the replay workload writes it),
// 65,536 rows per transaction. Closing the connection checkpoints the WAL into the file.
void write_one_stream(const std::string& path, const std::string& id, std::size_t n, interlock::sync_mode sync) {
  database db{path, sync};
  db.exec(event_table);
  event_writer writer{db};
  constexpr std::size_t chunk = 65'536;
  std::vector<row> rows;
  rows.reserve(std::min(chunk, n));
  for (std::size_t v = 1; v <= n;) {
    rows.clear();
    for (; v <= n && rows.size() < chunk; ++v) {
      if (v == 1) rows.push_back({&id, 1, "Opened", opened_payload(0)});
      else rows.push_back({&id, static_cast<std::int64_t>(v), "Deposited", deposited_payload(0, v - 2)});
    }
    writer.write_all(rows, rows.size());
  }
}

const char* const read_stream_sql =
    "SELECT global_position, version, type, payload, recorded_at FROM events"
    " WHERE stream_id = ?1 AND version >= ?2 ORDER BY version";

// Reads stream `id` in version order and touches every payload byte without
// decoding it; the row count. The statement is reset for the next read.
std::uint64_t read_rows(statement& read, const std::string& id) {
  read.bind(1, id);
  read.bind(2, std::int64_t{1});
  std::uint64_t count = 0, checksum = 0;
  while (read.step()) {
    auto* s = read.get();
    checksum += static_cast<std::uint64_t>(sqlite3_column_int64(s, 0) + sqlite3_column_int64(s, 1) +
                                           sqlite3_column_int64(s, 4));
    const auto* type = sqlite3_column_text(s, 2);
    checksum += type ? type[0] : 0;
    const auto* payload = sqlite3_column_text(s, 3);
    const auto bytes = sqlite3_column_bytes(s, 3);
    for (int i = 0; i < bytes; ++i) checksum += payload[i];  // touch, don't decode
    ++count;
  }
  read.reset();
  ceiling_read_sink = ceiling_read_sink + checksum;  // keeps the loop honest
  return count;
}

}  // namespace

result ceiling_sequential(const options& opts, const std::string& dir) {
  return bank_ceiling("ceiling_seq", false, opts, dir);
}

result ceiling_interleaved(const options& opts, const std::string& dir) {
  return bank_ceiling("ceiling_interleaved", true, opts, dir);
}

result ceiling_commit(const options& opts, const std::string& dir) {
  const auto path = dir + "/ceiling_commit.db";
  return guarded("ceiling_commit", opts, path, [&](result& r) {
    remove_database(path);
    const auto id = interlock::new_id();
    std::vector<row> rows;
    rows.push_back({&id, 1, "Opened", opened_payload(0)});
    for (std::size_t d = 0; d < opts.commands; ++d)
      rows.push_back({&id, static_cast<std::int64_t>(d + 2), "Deposited", deposited_payload(0, d)});
    database db{path, opts.sync};
    db.exec(event_table);
    event_writer writer{db};
    writer.write(rows, 0, 1);  // the account exists before the timed commits
    auto commit_rows = [&](std::size_t first, std::size_t last, std::vector<double>& latencies) {
      latencies.reserve(last - first);
      for (std::size_t i = first; i < last; ++i) {
        const auto start = clock::now();
        writer.write(rows, i, i + 1);
        latencies.push_back(micros_between(start, clock::now()));
      }
    };
    std::vector<double> latencies;
    const auto t0 = clock::now();
    commit_rows(1, rows.size(), latencies);
    r.set_rate(opts.commands, seconds_since(t0));
    set_latencies(r, std::move(latencies));
    // The same commits again while another thread keeps a CPU busy. On a VM an
    // idle vCPU may notice the fsync's completion only at its next timer tick;
    // the runtime's scheduler threads poll, so its commits do not idle the CPU.
    // This figure is informational; ratio_to_ceiling uses the plain one above.
    {
      std::atomic<bool> stop{false};
      std::thread spinner{[&] {
        while (!stop.load(std::memory_order_relaxed)) {
        }
      }};
      std::vector<double> busy;
      const auto more = rows.size();
      for (std::size_t d = 0; d < opts.commands; ++d)
        rows.push_back({&id, static_cast<std::int64_t>(opts.commands + d + 2), "Deposited",
                        deposited_payload(0, opts.commands + d)});
      commit_rows(more, rows.size(), busy);
      stop = true;
      spinner.join();
      r.extra["busy_cpu_p50_us"] = percentile(busy, 50);
      r.extra["busy_cpu_p99_us"] = percentile(busy, 99);
    }
    r.notes.push_back("one row per transaction (BEGIN IMMEDIATE; INSERT; COMMIT), one at a time; busy_cpu_*: "
                      "the same with a spinning thread keeping the CPU out of idle");
  });
}

result ceiling_read(const options& opts, const std::string& dir) {
  const auto path = dir + "/ceiling_read.db";
  return guarded("ceiling_read", opts, path, [&](result& r) {
    remove_database(path);
    const auto id = interlock::new_id();
    write_one_stream(path, id, opts.events, opts.sync);  // untimed
    database db{path, opts.sync};  // a new connection: SQLite's page cache is empty
    const auto t0 = clock::now();
    statement read{db, read_stream_sql};
    const auto count = read_rows(read, id);
    r.set_rate(count, seconds_since(t0));
    if (count != opts.events)
      throw sqlite_failure{"read " + std::to_string(count) + " rows, expected " + std::to_string(opts.events)};
    r.notes.push_back("one stream of " + with_commas(static_cast<double>(opts.events)) +
                      " rows read back in version order by a new connection (OS page cache warm)");
  });
}

// The best a cold aggregate load can do: its stream's rows side by side in a
// file that holds nothing else, read by a connection that is already open
// with its statement prepared (as the runtime's reader is). After the first
// read the pages are in SQLite's own cache, so this is a lower bound.
result ceiling_stream(const options& opts, const std::string& dir) {
  const auto path = dir + "/ceiling_stream.db";
  return guarded("ceiling_stream", opts, path, [&](result& r) {
    remove_database(path);
    const auto id = interlock::new_id();
    write_one_stream(path, id, cold_stream_length, opts.sync);  // untimed
    database db{path, opts.sync};
    statement read{db, read_stream_sql};
    const auto reads = opts.cold_probes;
    std::vector<double> latencies;
    latencies.reserve(reads);
    const auto t0 = clock::now();
    for (std::size_t i = 0; i < reads; ++i) {
      const auto start = clock::now();
      const auto count = read_rows(read, id);
      latencies.push_back(micros_between(start, clock::now()));
      if (count != cold_stream_length)
        throw sqlite_failure{"read " + std::to_string(count) + " rows, expected " +
                             std::to_string(cold_stream_length)};
    }
    r.set_rate(reads, seconds_since(t0));
    set_latencies(r, std::move(latencies));
    r.notes.push_back(with_commas(static_cast<double>(reads)) + " reads of one stream of " +
                      std::to_string(cold_stream_length) +
                      " rows, alone in its file, in version order by one open connection (events = reads)");
  });
}

}  // namespace bench
