// The install test's consumer: a minimal aggregate and projection on an
// in-memory journal, built only against an installed Interlock, with types
// declared the nlohmann_json way (<interlock/runtime/nlohmann_json.hpp>).
// Exits 0 only if the query returns the expected total. Every other public
// entry header is included too: the installed tree (the API and what it
// includes, nothing else) must hold all they need.
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nlohmann/json.hpp>

#include <interlock/persistence/memory_journal.hpp>
#include <interlock/persistence/upcaster.hpp>
#include <interlock/runtime/actor_api.hpp>
#include <interlock/runtime/aggregate_test.hpp>
#include <interlock/runtime/interlock.hpp>
#include <interlock/runtime/nlohmann_json.hpp>
#include <interlock/runtime/projection_test.hpp>
#include <interlock/runtime/settings.hpp>

struct AddPoints {
  using result_type = void;
  std::int64_t points = 0;
};
struct GetPoints {
  using result_type = std::int64_t;
  std::string player_id;
};
struct PointsAdded {
  std::int64_t points = 0;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AddPoints, points)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(GetPoints, player_id)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PointsAdded, points)

struct Player : interlock::aggregate<Player> {
  using commands = interlock::types<AddPoints>;
  using events = interlock::types<PointsAdded>;

  std::int64_t points = 0;

  void handle(const AddPoints& c) {
    if (c.points <= 0) throw interlock::rejected{"points must be positive"};
    emit(PointsAdded{c.points});
  }
  void apply(const PointsAdded& e) { points += e.points; }
};

struct Scoreboard {
  using events = interlock::types<PointsAdded>;
  using queries = interlock::types<GetPoints>;

  std::map<std::string, std::int64_t> points;

  void on(const PointsAdded& e, const interlock::event_envelope& env) { points[env.aggregate_id] += e.points; }
  std::int64_t handle(const GetPoints& q) const {
    auto it = points.find(q.player_id);
    return it == points.end() ? 0 : it->second;
  }
};

int main() {
  caf::actor_system_config cfg;
  interlock::tune(cfg);
  caf::actor_system sys{cfg};

  interlock::application_builder builder{sys};
  builder.aggregate<Player>().projection<Scoreboard>().in_memory();
  auto app = builder.build();
  if (!app) {
    std::fprintf(stderr, "consumer: cannot start: %s\n", interlock::describe(app.error()).c_str());
    return 1;
  }

  auto player = interlock::new_id();
  auto first = app->dispatch(player, AddPoints{40});
  auto second = app->dispatch(player, AddPoints{2});
  if (!first || !second) {
    std::fprintf(stderr, "consumer: command failed: %s\n",
                 interlock::describe(first ? second.error() : first.error()).c_str());
    return 1;
  }
  auto total = app->query(GetPoints{player}, {.after = second->position});
  if (!total) {
    std::fprintf(stderr, "consumer: query failed: %s\n", interlock::describe(total.error()).c_str());
    return 1;
  }
  std::printf("consumer: points = %lld (expected 42)\n", static_cast<long long>(*total));
  if (*total != 42) {
    std::fprintf(stderr, "consumer: WRONG RESULT\n");
    return 1;
  }
  std::printf("consumer: OK\n");
  return 0;
}
