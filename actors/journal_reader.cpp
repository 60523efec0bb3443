#include <interlock/actors/journal_reader.hpp>

#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

struct reader_state {
  std::unique_ptr<interlock::journal> db;
  static inline const char* name = "interlock.journal_reader";
};

using events_result = caf::result<std::vector<stored_event>>;

events_result to_result(caf::expected<std::vector<stored_event>> events) {
  if (!events) return std::move(events.error());
  return std::move(*events);
}

caf::behavior journal_reader(caf::stateful_actor<reader_state>* self,
                             std::shared_ptr<std::unique_ptr<journal>> holder) {
  self->state.db = std::move(*holder);
  return {
      [=](read_stream_atom, const std::string& type, const std::string& id, std::uint64_t from,
          std::uint64_t max) -> events_result {
        return to_result(self->state.db->read_stream(type, id, from, max));
      },
      [=](read_all_atom, std::uint64_t from, std::uint64_t max) -> events_result {
        return to_result(self->state.db->read_all(from, max));
      },
  };
}

}  // namespace

caf::actor spawn_journal_reader(caf::actor_system& sys, std::unique_ptr<journal> j) {
  auto holder = std::make_shared<std::unique_ptr<journal>>(std::move(j));
  return sys.spawn<caf::detached>(journal_reader, holder);
}

}  // namespace interlock
