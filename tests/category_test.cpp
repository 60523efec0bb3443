// Catching up by type (catch_up_by_type): a projection reads only its own
// event types through the journal's type index, and ends where the log ends.
#include <catch2/catch.hpp>

#include <thread>

#include <interlock/persistence/read_db.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/persistence/upcaster.hpp>

#include "bank_domain.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"

using namespace testbank;
using namespace testing_support;

namespace {

struct WithdrawnTotal : interlock::query<std::int64_t> {};
struct WithdrawalCount : interlock::query<std::int64_t> {};

struct Withdrawals {  // in memory
  static constexpr bool catch_up_by_type = true;
  using events = interlock::types<Withdrawn>;
  using queries = interlock::types<WithdrawnTotal>;
  std::int64_t total = 0;
  void on(const Withdrawn& e) { total += e.amount; }
  std::int64_t handle(const WithdrawnTotal&) const { return total; }
};

struct WithdrawalRows {  // durable
  static constexpr bool catch_up_by_type = true;
  using events = interlock::types<Withdrawn>;
  using queries = interlock::types<WithdrawalCount>;
  void create(interlock::read_db& db) { db.exec("CREATE TABLE IF NOT EXISTS withdrawals (amount INTEGER)"); }
  void on(const Withdrawn& e, interlock::read_db& db) { db.exec("INSERT INTO withdrawals VALUES (?)", e.amount); }
  std::int64_t handle(const WithdrawalCount&, interlock::read_db& db) const {
    return *db.value<std::int64_t>("SELECT count(*) FROM withdrawals");
  }
};

// acc-0..acc-4: opened, 40 deposits each, and a withdrawal of 1..5 every 10th
// event of acc-3 (some stored under the old name OldWithdrawn when `old_names`).
std::int64_t fill(const std::string& db, bool old_names) {
  auto j = interlock::open_sqlite_journal(interlock::sqlite_options{db});
  REQUIRE(j);
  std::int64_t withdrawn = 0;
  for (int a = 0; a < 5; ++a) {
    interlock::append_request req;
    req.aggregate_type = "Account";
    req.aggregate_id = "acc-" + std::to_string(a);
    req.events.push_back({"Opened", 1, R"({"owner":"o"})"});
    for (int k = 1; k <= 40; ++k) {
      req.events.push_back({"Deposited", 1, R"({"amount":100,"tag":"t"})"});
      if (a == 3 && k % 10 == 0) {
        const auto amount = k / 10;
        req.events.push_back({old_names && k <= 20 ? "OldWithdrawn" : "Withdrawn", 1,
                              R"({"amount":)" + std::to_string(amount) + "}"});
        withdrawn += amount;
      }
    }
    for (auto& r : (*j)->append({req})) REQUIRE(r);
  }
  return withdrawn;
}

template <class P>
caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db, std::size_t read_batch,
                                            bool old_names = false, bool copies = false) {
  interlock::runtime_settings s;
  s.read_batch = read_batch;
  s.category_copies = copies;
  interlock::application_builder b{sys};
  b.settings(s).sqlite(db).aggregate<Account>().projection<P>();
  if (old_names) b.upcasters().rename("OldWithdrawn", 1, "Withdrawn", 1);
  return b.build();
}

interlock::projection_status only_status(interlock::application& app) {
  auto all = app.status();
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  return all->front();
}

}  // namespace

TEST_CASE("by type: a catch-up reads only the projection's events and ends where the log ends", "[category]") {
  const std::size_t batch = GENERATE(2, 4096);
  const bool copies = GENERATE(false, true);  // journal.category_copies: read from the copies
  INFO("read_batch " << batch << ", category copies " << copies);
  temp_dir dir;
  const auto db = dir.file("bank.db");
  const auto withdrawn = fill(db, false);
  const std::uint64_t end = 5 * 41 + 4;
  actor_env env;
  auto app = start<Withdrawals>(env.sys, db, batch, false, copies);
  REQUIRE(app);
  CHECK((testing_support::raw_db{db}.rows("SELECT count(*) FROM log_copies") == std::vector<std::string>{"0"}) ==
        !copies);
  CHECK(app->query(WithdrawnTotal{}, {.after = end}).value() == withdrawn);
  auto s = only_status(*app);
  CHECK(s.position == end);  // the log's last events are deposits: it has looked past them
  CHECK(s.lag_events == 0);
  // Live events after the catch-up: applied once each, whatever their type.
  REQUIRE(app->dispatch("acc-1", Deposit{{}, 5, "t"}));
  auto w = app->dispatch("acc-1", Withdraw{7});
  REQUIRE(w);
  CHECK(app->query(WithdrawnTotal{}, {.after = w->position}).value() == withdrawn + 7);
}

TEST_CASE("by type: a durable read model too, one transaction per chunk of its own events", "[category]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  fill(db, false);
  const std::uint64_t end = 5 * 41 + 4;
  {
    actor_env env;
    auto app = start<WithdrawalRows>(env.sys, db, 3);
    REQUIRE(app);
    CHECK(app->query(WithdrawalCount{}, {.after = end}).value() == 4);
    CHECK(only_status(*app).checkpoint == end);
  }
  actor_env env;  // a restart reads nothing again
  auto app = start<WithdrawalRows>(env.sys, db, 3);
  REQUIRE(app);
  auto w = app->dispatch("acc-2", Withdraw{1});
  REQUIRE(w);
  CHECK(app->query(WithdrawalCount{}, {.after = w->position}).value() == 5);
}

TEST_CASE("by type: events stored under an older name that an upcaster renames are read too", "[category]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  const auto withdrawn = fill(db, true);
  actor_env env;
  auto app = start<Withdrawals>(env.sys, db, 4096, true);
  REQUIRE(app);
  CHECK(app->query(WithdrawnTotal{}, {.after = 5 * 41 + 4}).value() == withdrawn);
}

// -- subscriptions by aggregate type -----------------------------------------

namespace {

struct Tip {
  using result_type = void;
  std::int64_t amount = 0;
};
INTERLOCK_JSON(Tip, amount)

// Another aggregate type whose events are of a type Account emits too.
struct Wallet : interlock::aggregate<Wallet> {
  using commands = interlock::types<Tip>;
  using events = interlock::types<Deposited>;
  void handle(const Tip& t) { emit(Deposited{t.amount, "tip"}); }
  void apply(const Deposited&) {}
};

struct AccountDepositTotal : interlock::query<std::int64_t> {};
struct AccountDepositRows : interlock::query<std::int64_t> {};

struct AccountDeposits {  // in memory: Account's Deposited only, not Wallet's
  using aggregates = interlock::types<Account>;
  using events = interlock::types<Deposited>;
  using queries = interlock::types<AccountDepositTotal>;
  std::int64_t total = 0;
  void on(const Deposited& e) { total += e.amount; }
  std::int64_t handle(const AccountDepositTotal&) const { return total; }
};

struct AccountDepositTable {  // durable
  using aggregates = interlock::types<Account>;
  using events = interlock::types<Deposited>;
  using queries = interlock::types<AccountDepositRows>;
  void create(interlock::read_db& db) { db.exec("CREATE TABLE IF NOT EXISTS deposits (amount INTEGER)"); }
  void on(const Deposited& e, interlock::read_db& db) { db.exec("INSERT INTO deposits VALUES (?)", e.amount); }
  std::int64_t handle(const AccountDepositRows&, interlock::read_db& db) const {
    return *db.value<std::int64_t>("SELECT coalesce(sum(amount), 0) FROM deposits");
  }
};

// Accounts acc-0..acc-2 with 10 deposits of 1 each, interleaved with wallets
// w-0..w-2 with 10 deposits of 1000 each; returns the last position (30 + 3 + 30).
std::uint64_t fill_wallets(const std::string& db) {
  auto j = interlock::open_sqlite_journal(interlock::sqlite_options{db});
  REQUIRE(j);
  std::uint64_t last = 0;
  for (int a = 0; a < 3; ++a) {
    interlock::append_request account{"Account", "acc-" + std::to_string(a), 0, {}, "", "", ""};
    account.events.push_back({"Opened", 1, R"({"owner":"o"})"});
    interlock::append_request wallet{"Wallet", "w-" + std::to_string(a), 0, {}, "", "", ""};
    for (int k = 0; k < 10; ++k) {
      account.events.push_back({"Deposited", 1, R"({"amount":1,"tag":"t"})"});
      wallet.events.push_back({"Deposited", 1, R"({"amount":1000,"tag":"tip"})"});
    }
    for (auto& r : (*j)->append({account, wallet})) {
      REQUIRE(r);
      last = r->last_position;
    }
  }
  return last;
}

template <class P>
caf::expected<interlock::application> start_wallets(caf::actor_system& sys, const std::string& db) {
  interlock::application_builder b{sys};
  b.sqlite(db).aggregate<Account>().aggregate<Wallet>().projection<P>();
  return b.build();
}

// Whether `done()` holds within 10 s.
template <class F>
bool within_10s(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

template <class P, class Q>
void check_account_only(const std::string& db, bool durable) {
  const auto end = fill_wallets(db);
  {
    actor_env env;
    auto app = start_wallets<P>(env.sys, db);
    REQUIRE(app);
    CHECK(app->query(Q{}, {.after = end}).value() == 30);  // the wallets' 30,000 are not Account's
    CHECK(only_status(*app).position == end);
    // Live: a wallet's deposit is passed over, and a query waiting for its position is answered.
    REQUIRE(app->dispatch("acc-0", Deposit{{}, 5, "t"}));
    REQUIRE(app->dispatch("w-0", Tip{700}));
    auto tip = app->dispatch("w-1", Tip{800});
    REQUIRE(tip);
    // No query first: one that waits would catch up from the journal. Live, the position follows the log by itself.
    CHECK(within_10s([&] { return only_status(*app).position == tip->position; }));
    if (durable) CHECK(within_10s([&] { return only_status(*app).checkpoint == tip->position; }));  // stored too
    auto answer = app->query(Q{}, {.after = tip->position, .timeout = std::chrono::seconds(5)});
    REQUIRE(answer);
    CHECK(*answer == 35);
    CHECK(only_status(*app).position == tip->position);
  }
  actor_env env;  // a restart goes on from where it was, the tips still not counted
  auto app = start_wallets<P>(env.sys, db);
  REQUIRE(app);
  auto d = app->dispatch("acc-1", Deposit{{}, 2, "t"});
  REQUIRE(d);
  CHECK(app->query(Q{}, {.after = d->position}).value() == 37);
}

}  // namespace

TEST_CASE("by aggregate type: an in-memory read model sees only its aggregates' events, caught up and live",
          "[category]") {
  temp_dir dir;
  check_account_only<AccountDeposits, AccountDepositTotal>(dir.file("bank.db"), false);
}

TEST_CASE("by aggregate type: a durable read model too, passed-over events still move its position", "[category]") {
  temp_dir dir;
  check_account_only<AccountDepositTable, AccountDepositRows>(dir.file("bank.db"), true);
}

namespace {

// WithdrawalRows without catch_up_by_type or aggregates: its event types alone reach the read store.
struct WithdrawalRowsByLog : WithdrawalRows {
  static constexpr bool catch_up_by_type = false;
};

}  // namespace

TEST_CASE("by event type, durable, whole-log catch-up: live events of other types move the checkpoint, not the rows",
          "[category]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  fill(db, false);
  actor_env env;
  interlock::application_builder b{env.sys};
  b.sqlite(db).aggregate<Account>().projection<WithdrawalRowsByLog>();
  auto app = b.build();
  REQUIRE(app);
  REQUIRE(app->query(WithdrawalCount{}, {.after = 5 * 41 + 4}).value() == 4);
  auto w = app->dispatch("acc-1", Withdraw{1});  // its own, then two that are not
  REQUIRE(w);
  REQUIRE(app->dispatch("acc-1", Deposit{{}, 5, "t"}));
  auto d = app->dispatch("acc-2", Deposit{{}, 5, "t"});
  REQUIRE(d);
  CHECK(within_10s([&] { return only_status(*app).checkpoint == d->position; }));
  CHECK(only_status(*app).position == d->position);
  CHECK(app->query(WithdrawalCount{}, {.after = d->position}).value() == 5);
}
