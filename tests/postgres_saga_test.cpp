// Sagas on an application whose journal and read store are on PostgreSQL:
// their state and outbox live in the read schema (runtime/detail/
// process_model.cpp's portable SQL), and a restart finishes what was left.
#include <catch2/catch.hpp>

#include <thread>

#include "journal_test_support.hpp"
#include "test_support.hpp"
#include "transfer_domain.hpp"

using namespace testing_support;
using namespace transfers;
using journal_testing::postgres_exec;

namespace {

struct schemas {
  std::string url = journal_testing::postgres_test_url();
  std::string schema = journal_testing::fresh_postgres_schema();
  ~schemas() {
    postgres_exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    postgres_exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "_read\" CASCADE");
  }
  // The count of `from` ("@" the read schema, "#" the journal's).
  std::int64_t count(std::string from) const {
    for (auto at = from.find_first_of("@#"); at != std::string::npos; at = from.find_first_of("@#", at + 1))
      from.replace(at, 1, "\"" + schema + (from[at] == '@' ? "_read\"" : "\""));
    auto r = postgres_exec(url, "SELECT count(*) FROM " + from);
    if (!r) FAIL(interlock::describe(r.error()));
    return r->int64(0, 0);
  }
};

constexpr std::chrono::seconds server_wait{20};  // the tests' server is shared: more than eventually()'s default

caf::expected<interlock::application> start(caf::actor_system& sys, const schemas& pg) {
  interlock::application_builder b{sys};
  register_all(b).postgres(pg.url, pg.schema);
  return b.build();
}

}  // namespace

TEST_CASE("saga on postgres: a transfer completes, a refused credit is refunded, state and outbox on the server",
          "[process][saga]") {
  schemas pg;
  actor_env env;
  auto app = start(env.sys, pg);
  REQUIRE(app);
  REQUIRE(app->dispatch("alice", Open{100}));
  REQUIRE(app->dispatch("bob", Open{0}));
  REQUIRE(app->dispatch("closed", Open{0, true}));
  REQUIRE(app->dispatch("t1", StartTransfer{"alice", "bob", 30}, in_conversation("transfer-1")));
  REQUIRE(app->dispatch("t2", StartTransfer{"alice", "closed", 40}, in_conversation("transfer-2")));
  CHECK(eventually([&] { return balance(*app, "bob") == 30 && pg.count("#.events WHERE event_type = 'Refunded'") == 1; },
                   server_wait));
  CHECK(eventually([&] { return balance(*app, "alice") == 70; }, server_wait));
  CHECK(balance(*app, "closed") == 0);
  CHECK(eventually([&] { return pg.count("@.interlock_saga_state") == 0 && pg.count("@.interlock_outbox") == 0; },
                   server_wait));
  CHECK(pg.count("@.projection_checkpoints WHERE projection = 'Transfer'") == 1);
}

TEST_CASE("saga on postgres: a restart finishes every transfer, each command once", "[process][saga][restart]") {
  schemas pg;
  constexpr int transfers = 20;
  {
    actor_env env;
    auto app = start(env.sys, pg);
    REQUIRE(app);
    REQUIRE(app->dispatch("alice", Open{1000}));
    REQUIRE(app->dispatch("bob", Open{0}));
    REQUIRE(app->dispatch("closed", Open{0, true}));
    for (int i = 0; i < transfers; ++i)  // stopped with steps and commands in flight
      app->dispatch_async("t" + std::to_string(i), StartTransfer{"alice", i % 4 == 0 ? "closed" : "bob", 10},
                          in_conversation("transfer-" + std::to_string(i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  actor_env env;
  auto app = start(env.sys, pg);
  REQUIRE(app);
  const bool finished = eventually([&] {
    const auto requested = pg.count("#.events WHERE event_type = 'TransferRequested'");
    return balance(*app, "bob") == 10 * (requested - (requested + 3) / 4) &&
           balance(*app, "alice") == 1000 - balance(*app, "bob") && pg.count("@.interlock_saga_state") == 0;
  }, server_wait);
  CHECK(finished);
  const auto requested = pg.count("#.events WHERE event_type = 'TransferRequested'");
  CHECK(requested > 0);
  CHECK(pg.count("(SELECT command_id FROM #.events WHERE event_type IN ('Debited', 'Credited', 'Refunded') "
                 "GROUP BY command_id HAVING count(*) > 1) AS twice") == 0);
  CHECK(pg.count("#.events WHERE event_type = 'Debited'") == requested);
}
