#include <interlock/actors/aggregate/command_batch.hpp>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include <interlock/actors/aggregate/messages.hpp>

namespace interlock::detail {
namespace {

// Answers e's command with its error, or else its reply, in the name of
// `sender` (null: of the actor that took the command).
void answer(batch_entry& e, const caf::strong_actor_ptr& sender) {
  if (e.error) e.q.answer_from(sender, std::move(e.error));
  else e.q.answer_from(sender, std::move(e.reply));
}

}  // namespace

command_batch::command_batch(caf::actor aggregate, std::shared_ptr<batch_chain> chain, kind k)
    : aggregate_(std::move(aggregate)), chain_(std::move(chain)), kind_(k) {}

// A sync batch the writer never completed: nothing more can come back.
command_batch::~command_batch() {
  if (kind_ == sync && !completed_ && aggregate_) caf::anon_send(aggregate_, sync_lost_atom::value);
}

void command_batch::answer_all() {
  for (auto& e : entries) answer(e, nullptr);
}

void command_batch::completed(std::span<caf::expected<append_result>> results, caf::local_actor* writer) {
  completed_ = true;
  if (chain_->broken || kind_ == sync) return hand_back(writer, 0, {});
  const auto me = caf::actor_cast<caf::strong_actor_ptr>(writer);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto& e = entries[i];
    if (e.request != no_request) {
      auto& r = results[e.request];
      if (!r) {
        chain_->broken = true;
        return hand_back(writer, i, r.error());
      }
      e.reply.position = r->last_position;
      e.reply.version = r->last_version;
    }
    answer(e, me);
  }
}

// If the aggregate has stopped, the message is dropped with the batch, and
// the commands answer errc::unavailable (queued_command.hpp).
void command_batch::hand_back(caf::local_actor* writer, std::size_t first, caf::error err) {
  caf::send_as(caf::actor_cast<caf::actor>(writer), aggregate_, handed_back_atom::value, shared_from_this(), first,
               std::move(err));
}

}  // namespace interlock::detail
