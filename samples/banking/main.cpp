// The CQRS banking example: commands go to the BankAccount aggregate (write
// side), two projections build the AccountSummary and TransactionHistory read
// models (read side), and the program prints both views as tables.
//
// The journal is a file (default data/banking.db), so every run adds three new
// accounts to those of earlier runs: the views are rebuilt from the whole
// journal at start and keep growing. --memory starts empty each time.
//
// `banking [--db PATH] debug COMMAND ...` runs the time-travel console on the
// journal instead (runtime/debug.hpp): replay, step, check-snapshots, rebuild,
// serve (the web view: `banking --db PATH debug serve --port P`);
// `banking debug --help` lists them.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <interlock/runtime/debug.hpp>
#include <interlock/runtime/interlock.hpp>

#include "../sample_args.hpp"
#include "../sample_config.hpp"
#include "domain.hpp"
#include "read_models.hpp"
#include "upcasters.hpp"

using namespace banking;

namespace {

// -- text output ---------------------------------------------------------------

struct column {
  std::string header;
  bool right = false;  // numbers and money line up on the right
};

/// Prints an aligned table: each column as wide as its widest cell.
void print_table(const std::vector<column>& cols, const std::vector<std::vector<std::string>>& rows,
                 std::size_t indent = 2) {
  std::vector<std::size_t> width(cols.size());
  for (std::size_t c = 0; c < cols.size(); ++c) {
    width[c] = cols[c].header.size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto print_row = [&](auto cell_of) {
    std::string line(indent, ' ');
    for (std::size_t c = 0; c < cols.size(); ++c) {
      std::string cell = cell_of(c);
      std::string pad(width[c] - cell.size(), ' ');
      line += (cols[c].right ? pad + cell : cell + pad) + "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);
    std::printf("%s\n", line.c_str());
  };
  print_row([&](std::size_t c) { return cols[c].header; });
  print_row([&](std::size_t c) { return std::string(width[c], '-'); });
  for (const auto& row : rows) print_row([&](std::size_t c) { return row[c]; });
}

/// "2025-06-01 12:34:56.789" (UTC) from microseconds since the epoch.
std::string format_time(std::int64_t us) {
  std::time_t seconds = us / 1'000'000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  auto n = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%03d", static_cast<int>(us % 1'000'000 / 1000));
  return text;
}

// -- the write side --------------------------------------------------------------

enum class outcome { done, rejected, failed };

/// Sends commands and prints the ones that fail. Remembers the journal position
/// of the last committed command: queries pass it as `after` to see it.
class teller {
 public:
  explicit teller(interlock::application& app) : app_(app) {}

  /// Opens an account under a fresh ULID; nullopt if that failed.
  std::optional<std::string> open(const std::string& owner) {
    auto r = app_.create(OpenAccount{owner});
    if (note(r, "OpenAccount for " + owner) != outcome::done) return std::nullopt;
    names_[r->aggregate_id] = owner;
    return r->aggregate_id;
  }
  outcome reopen(const std::string& id) { return run(id, OpenAccount{name(id)}, "OpenAccount again for " + name(id)); }
  outcome deposit(const std::string& id, cents amount) {
    return run(id, DepositMoney{amount}, "DepositMoney " + format_money(amount) + " to " + name(id));
  }
  outcome withdraw(const std::string& id, cents amount) {
    return run(id, WithdrawMoney{amount}, "WithdrawMoney " + format_money(amount) + " from " + name(id));
  }
  outcome close(const std::string& id) { return run(id, CloseAccount{}, "CloseAccount of " + name(id)); }

  std::uint64_t last_position() const { return last_position_; }
  bool opened_here(const std::string& id) const { return names_.contains(id); }
  std::size_t opened_count() const { return names_.size(); }
  std::optional<std::string> id_of(const std::string& owner) const {
    for (const auto& [id, name] : names_)
      if (name == owner) return id;
    return std::nullopt;
  }

 private:
  template <class C>
  outcome run(const std::string& id, C cmd, const std::string& label) {
    return note(app_.dispatch(id, std::move(cmd)), label);
  }

  outcome note(const caf::expected<interlock::receipt<void>>& r, const std::string& label) {
    if (r) {
      last_position_ = std::max(last_position_, r->position);
      return outcome::done;
    }
    // A rejection is the domain saying no; anything else is the runtime failing.
    bool rejected = interlock::is(r.error(), interlock::errc::rejected);
    std::printf("%s: %s: %s\n", rejected ? "Rejected" : "Failed", label.c_str(),
                interlock::describe(r.error()).c_str());
    return rejected ? outcome::rejected : outcome::failed;
  }

  std::string name(const std::string& id) const {
    auto it = names_.find(id);
    return it == names_.end() ? "account " + id : it->second;
  }

  interlock::application& app_;
  std::map<std::string, std::string> names_;  // accounts opened by this run: id -> owner
  std::uint64_t last_position_ = 0;
};

/// Three customers' day at the bank, then one command against each rule.
/// False if a command that should succeed failed, or a rule let one through.
bool run_scenario(teller& t) {
  auto alice = t.open("Alice");
  auto bob = t.open("Bob");
  auto carol = t.open("Carol");
  if (!alice || !bob || !carol) return false;

  bool ok = true;
  auto must = [&](outcome o) { ok = ok && o == outcome::done; };
  must(t.deposit(*alice, 1'000'00));
  must(t.withdraw(*alice, 250'00));
  must(t.deposit(*alice, 1'234'56));
  must(t.deposit(*bob, 100'00));
  must(t.deposit(*bob, 20'00));
  must(t.deposit(*carol, 75'00));
  must(t.withdraw(*carol, 75'00));
  must(t.close(*carol));

  std::printf("The rules at work (each command below is refused, nothing is stored):\n");
  auto must_reject = [&](outcome o) { ok = ok && o == outcome::rejected; };
  must_reject(t.withdraw(*bob, 500'00));               // no overdraft
  must_reject(t.deposit(*carol, 10'00));               // closed accounts are frozen
  must_reject(t.close(*alice));                        // money left in the account
  must_reject(t.reopen(*bob));                         // an account opens once
  must_reject(t.deposit(interlock::new_id(), 5'00));   // nobody opened it
  must_reject(t.withdraw(*alice, -1'00));              // amounts are positive
  return ok;
}

// -- the read side ---------------------------------------------------------------

void print_summaries(const std::vector<AccountSummary>& rows, const teller& t) {
  std::printf("\nAccountSummary view - accounts in journal: %zu (opened by this run: %zu)\n", rows.size(),
              t.opened_count());
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows)
    cells.push_back({r.owner_name, r.account_id, format_money(r.balance), std::to_string(r.transactions),
                     r.open ? "open" : "closed", t.opened_here(r.account_id) ? "this run" : "earlier run"});
  print_table({{"Owner"}, {"Account"}, {"Balance", true}, {"Txns", true}, {"Status"}, {"Opened by"}}, cells);
}

void print_history(const AccountSummary& account, const std::vector<Transaction>& history) {
  std::printf("\n  %s - %s (%s)\n", account.owner_name.c_str(), account.account_id.c_str(),
              account.open ? "open" : "closed");
  std::vector<std::vector<std::string>> cells;
  for (const auto& tx : history)
    cells.push_back({std::to_string(tx.position), format_time(tx.recorded_at_us), tx.type, format_money(tx.amount),
                     format_money(tx.balance_after)});
  print_table({{"Pos", true}, {"Recorded (UTC)"}, {"Type"}, {"Amount", true}, {"Balance", true}}, cells, 4);
}

/// Queries both views as of the teller's last write and prints them.
bool print_views(interlock::application& app, const teller& t) {
  interlock::query_options as_of_last_write{.after = t.last_position()};
  auto summaries = app.query(GetAccountSummaries{}, as_of_last_write);
  if (!summaries) {
    std::fprintf(stderr, "query failed: %s\n", interlock::describe(summaries.error()).c_str());
    return false;
  }
  print_summaries(*summaries, t);

  std::printf("\nTransactionHistory view (one query per account)\n");
  for (const auto& account : *summaries) {
    auto history = app.query(GetTransactionHistory{account.account_id}, as_of_last_write);
    if (!history) {
      std::fprintf(stderr, "query failed: %s\n", interlock::describe(history.error()).c_str());
      return false;
    }
    print_history(account, *history);
  }
  return true;
}

/// The single-account query: what a "my account" page would ask.
bool print_account(interlock::application& app, const teller& t, const std::string& owner) {
  auto id = t.id_of(owner);
  if (!id) return false;
  auto summary = app.query(GetAccountSummary{*id}, {.after = t.last_position()});
  if (!summary || !*summary) {
    std::fprintf(stderr, "query failed: %s\n", summary ? "account not found" : interlock::describe(summary.error()).c_str());
    return false;
  }
  const auto& a = **summary;
  std::printf("\nGetAccountSummary for %s's new account: %s, %u transactions, %s\n", owner.c_str(),
              format_money(a.balance).c_str(), a.transactions, a.open ? "open" : "closed");
  return true;
}

/// Where the debug console's arguments start ("debug" and what follows); argc if not given.
int debug_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view{argv[i]} == "debug") return i;
  return argc;
}

}  // namespace

int main(int argc, char** argv) {
  // A CAF application's own config: the runtime's settings are part of it
  // (interlock::add_options, in sample_config), read from the same INI file
  // and command line as CAF's. The arguments after `debug` are the console's.
  const int debug_at = debug_argument(argc, argv);
  sample_config cfg{"data/banking.db"};
  cfg.parse_or_exit(debug_at, argv,
                    "banking [flags] debug COMMAND ...: the time-travel console on the journal\n"
                    "  (replay, step, check-snapshots, rebuild, serve; `banking debug --help` lists them)\n");
  caf::actor_system sys{cfg};

  interlock::application_builder builder{sys};  // its settings: cfg's interlock.* keys
  builder.aggregate<BankAccount>().projection<AccountSummaryProjection>().projection<TransactionHistoryProjection>();
  add_upcasters(builder.upcasters());  // journals of the sample's first version still load
  if (debug_at < argc) return interlock::debug::run(builder, argc - debug_at, argv + debug_at);
  auto app = builder.build();
  if (!app) {
    std::fprintf(stderr, "cannot start: %s\n", interlock::describe(app.error()).c_str());
    return 1;
  }
  std::printf("Interlock banking sample - journal: %s\n\n", cfg.journal().c_str());

  teller t{*app};
  bool scenario_ok = run_scenario(t);
  if (!print_views(*app, t) || !print_account(*app, t, "Bob")) return 1;
  if (cfg.status()) print_status(*app);
  if (!scenario_ok) {
    std::fprintf(stderr, "\nthe scenario did not go as expected (see the lines above)\n");
    return 1;
  }
  return 0;
}
