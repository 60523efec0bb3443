// catchup_durable: a durable read model (one row per account, updated per
// event, in the read store's tables) catching up over a journal of N events.
// Timed from build() until a query with {.after = N} answers. Ceiling: raw
// SQLite applying the same inserts and updates to the same table, in chunks of
// the same size (read_batch), each chunk's transaction also writing a
// checkpoint row, with the read store's pragmas (WAL, synchronous=NORMAL); the
// events are taken from the journal beforehand, untimed.
#include <sqlite3.h>

#include <interlock/persistence/read_db.hpp>

#include "journal_fill.hpp"
#include "runtime_host.hpp"

namespace bench {
namespace {

constexpr const char* balances_table =
    "CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, amount INTEGER NOT NULL, "
    "events INTEGER NOT NULL)";
constexpr const char* open_sql = "INSERT INTO balances VALUES (?, 0, 1)";
constexpr const char* deposit_sql = "UPDATE balances SET amount = amount + ?, events = events + 1 WHERE account = ?";

struct DurableBalances {
  using events = interlock::types<Opened, Deposited>;
  using queries = interlock::types<GetProgress>;

  void create(interlock::read_db& db) { db.exec(balances_table); }
  void on(const Opened&, const interlock::event_envelope& env, interlock::read_db& db) {
    db.exec(open_sql, env.aggregate_id);
  }
  void on(const Deposited& e, const interlock::event_envelope& env, interlock::read_db& db) {
    db.exec(deposit_sql, e.amount, env.aggregate_id);
  }
  Progress handle(const GetProgress&, interlock::read_db& db) const {
    auto sums = db.rows<std::uint64_t, std::int64_t>("SELECT coalesce(sum(events), 0), coalesce(sum(amount), 0) "
                                                     "FROM balances");
    return {std::get<0>(sums.at(0)), std::get<1>(sums.at(0))};
  }
};

struct change {
  bool open;
  std::string account;
  std::int64_t amount;
};

// The journal's events as the changes they make, in order (untimed).
std::vector<change> changes_in(interlock::journal& j, std::size_t n) {
  std::vector<change> out;
  out.reserve(n);
  for (std::uint64_t from = 1;;) {
    auto events = j.read_all(from, 65536);
    if (!events || events->empty()) break;
    for (auto& e : *events) {
      const bool open = e.event_type == "Opened";
      const auto amount = open ? 0 : interlock::detail::decode_json<Deposited>(e.payload).amount;
      out.push_back({open, e.aggregate_id, amount});
    }
    from = events->back().position + 1;
  }
  return out;
}

struct raw_statement {
  sqlite3_stmt* stmt = nullptr;
  raw_statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr); }
  ~raw_statement() { sqlite3_finalize(stmt); }
  bool run() {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE;
  }
};

// Applies `changes` to a fresh table in chunks of `chunk`, one transaction
// each with a checkpoint row; seconds, or an error text.
std::pair<double, std::string> raw_apply(const std::string& path, const std::vector<change>& changes,
                                         std::size_t chunk) {
  remove_database(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  auto fail = [&](const char* what) {
    std::string why = std::string{what} + ": " + sqlite3_errmsg(db);
    sqlite3_close_v2(db);
    return std::pair<double, std::string>{0, why};
  };
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, balances_table, nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, "CREATE TABLE checkpoints (name TEXT PRIMARY KEY, position INTEGER)", nullptr, nullptr,
                   nullptr) != SQLITE_OK)
    return fail("setting up the ceiling's table");
  const auto t0 = clock::now();
  {
    raw_statement open{db, open_sql}, deposit{db, deposit_sql},
        checkpoint{db, "INSERT INTO checkpoints VALUES ('c', ?) ON CONFLICT (name) DO UPDATE SET position = "
                       "excluded.position"};
    for (std::size_t start = 0; start < changes.size(); start += chunk) {
      sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      const auto end = std::min(changes.size(), start + chunk);
      for (std::size_t i = start; i < end; ++i) {
        const auto& c = changes[i];
        auto& s = c.open ? open : deposit;
        if (c.open) {
          sqlite3_bind_text(s.stmt, 1, c.account.data(), static_cast<int>(c.account.size()), SQLITE_STATIC);
        } else {
          sqlite3_bind_int64(s.stmt, 1, c.amount);
          sqlite3_bind_text(s.stmt, 2, c.account.data(), static_cast<int>(c.account.size()), SQLITE_STATIC);
        }
        if (!s.run()) return fail("applying a change");
      }
      sqlite3_bind_int64(checkpoint.stmt, 1, static_cast<std::int64_t>(end));
      if (!checkpoint.run() || sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
        return fail("committing a chunk");
    }
  }
  const auto elapsed = seconds_since(t0);
  sqlite3_close_v2(db);
  return {elapsed, {}};
}

}  // namespace

result workload_catchup_durable(const options& opts, const std::string& dir) {
  result r;
  r.workload = "catchup_durable";
  r.journal = opts.journal_name();
  const auto path = dir + "/catchup_durable.db";
  const auto read_path = dir + "/catchup_durable.read.db";
  const auto ceiling_path = dir + "/catchup_durable.ceiling.db";
  for (auto* p : {&path, &read_path}) remove_database(*p);
  const auto n = opts.events;
  const auto accounts = std::max<std::size_t>(1, std::min(opts.accounts, n));
  auto factory = journal_factory_for(opts, path);
  const interlock::runtime_settings defaults;
  [&] {
    auto filler = factory();
    if (!filler) {
      r.error = "cannot open the journal: " + describe_error(filler.error());
      return;
    }
    if (auto err = fill_accounts(**filler, n, accounts); !err.empty()) {
      r.error = err;
      return;
    }
    const auto changes = changes_in(**filler, n);
    if (!opts.memory) filler->reset();

    auto [ceiling_seconds, ceiling_error] = raw_apply(ceiling_path, changes, defaults.read_batch);
    if (!ceiling_error.empty()) {
      r.error = "the ceiling: " + ceiling_error;
      return;
    }

    runtime_host host;
    interlock::application_builder builder{host.sys};
    auto settings = settings_for(opts, path);
    settings.read_store_path = read_path;
    builder.aggregate<Account>().projection<DurableBalances>().settings(settings).journal(factory);
    auto caught_up = start_and_catch_up(builder, n);
    if (!caught_up.error.empty()) {
      r.error = caught_up.error;
      return;
    }
    const auto elapsed = caught_up.seconds;
    r.set_rate(n, elapsed);
    r.extra["ceiling_seconds"] = ceiling_seconds;
    r.ratio_to_ceiling = elapsed > 0 ? ceiling_seconds / elapsed : 0;
    r.ceiling = "raw apply";
    r.notes.push_back(with_commas(static_cast<double>(n)) + " events over " + std::to_string(accounts) +
                      " accounts, one row each; chunks of " + std::to_string(defaults.read_batch) +
                      " events a transaction; timed: build() to the answer of a query with {.after = N}");
  }();
  if (!opts.keep)
    for (auto* p : {&path, &read_path, &ceiling_path}) remove_database(*p);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
