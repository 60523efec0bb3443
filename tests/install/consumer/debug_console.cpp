// The install test's debug consumer: a program that embeds the time-travel
// console, built only against an installed Interlock (interlock::debug).
// Writes a journal at argv[1] with one aggregate's events, then runs the
// console's `replay` on it; exits 0 only if the console prints the state.
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <interlock/runtime/debug.hpp>
#include <interlock/runtime/interlock.hpp>

struct AddPoints {
  using result_type = void;
  std::int64_t points = 0;
};
INTERLOCK_JSON(AddPoints, points)
struct PointsAdded {
  std::int64_t points = 0;
};
INTERLOCK_JSON(PointsAdded, points)

struct Player : interlock::aggregate<Player> {
  using commands = interlock::types<AddPoints>;
  using events = interlock::types<PointsAdded>;
  std::int64_t points = 0;
  void handle(const AddPoints& c) { emit(PointsAdded{c.points}); }
  void apply(const PointsAdded& e) { points += e.points; }
};
INTERLOCK_JSON(Player, points)

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  caf::actor_system_config cfg;
  interlock::tune(cfg);
  caf::actor_system sys{cfg};
  interlock::application_builder builder{sys};
  builder.aggregate<Player>().sqlite(argv[1]);
  {
    auto app = builder.build();
    if (!app || !app->dispatch("p1", AddPoints{40}) || !app->dispatch("p1", AddPoints{2})) {
      std::fprintf(stderr, "consumer_debug: cannot write the journal\n");
      return 1;
    }
  }
  std::ostringstream out, err;
  const int status = interlock::debug::run(builder, {"replay", "Player/p1"}, out, err);
  std::printf("%s%s", out.str().c_str(), err.str().c_str());
  if (status != 0 || out.str().find("\"points\": 42") == std::string::npos) {
    std::fprintf(stderr, "consumer_debug: replay gave status %d, not the state with 42 points\n", status);
    return 1;
  }
  std::printf("consumer_debug: OK\n");
  return 0;
}
