// What an aggregate actor hands the journal writer: the commands it ran back
// to back, with the events they emitted, as one append job
// (actors/append_job.hpp). Internal to actors/aggregate/.
//
// Completed on the writer's thread, a batch answers its commands itself, in
// order, once the events each reply rests on are stored: the aggregate never
// waits for its appends, and a command costs one message less. What it
// cannot answer goes back to the aggregate, (handed_back_atom, batch, first,
// error):
//   - from the first command whose append failed on, the failed one first,
//     with its error;
//   - every command of a later batch of the same chain: they ran on the
//     events that failed.
// A chain is the batches an aggregate sent since it last loaded its state,
// each resting on the one before; it is the one place that knows a link
// failed ("nothing after a failed link": the journal refuses such appends,
// append_request::after_previous, and the chain hands their commands back).
// A sync batch holds no command and always comes back: once it does, the
// writer holds nothing more of the aggregate. If the writer drops it (it had
// stopped), the aggregate gets (sync_lost_atom) instead.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>

#include <interlock/actors/aggregate/queued_command.hpp>
#include <interlock/actors/append_job.hpp>

namespace interlock::detail {

inline constexpr std::size_t no_request = std::numeric_limits<std::size_t>::max();

/// The batches one aggregate sent since it last loaded its state. Read and
/// written by their completions only, on the writer's thread.
struct batch_chain {
  bool broken = false;  // a link failed: every later batch goes back
};

/// One command of a batch and what became of it when it ran.
struct batch_entry {
  queued_command q;
  caf::error error;                  // rejected: its caller gets this
  erased_reply reply;                // else this, once `request` (if any) is stored
  std::size_t request = no_request;  // its events' request in append_job::requests
};

class command_batch final : public append_job, public std::enable_shared_from_this<command_batch> {
 public:
  enum kind { commands, sync };

  command_batch(caf::actor aggregate, std::shared_ptr<batch_chain> chain, kind k = commands);
  ~command_batch() override;

  std::vector<batch_entry> entries;  // in the order they ran

  bool is_sync() const { return kind_ == sync; }

  /// Answers every entry here and now (nothing of the batch is to be stored).
  void answer_all();

  void completed(std::span<caf::expected<append_result>> results, caf::local_actor* writer) override;

 private:
  void hand_back(caf::local_actor* writer, std::size_t first, caf::error err);

  caf::actor aggregate_;
  std::shared_ptr<batch_chain> chain_;
  kind kind_;
  bool completed_ = false;
};

using command_batch_ptr = std::shared_ptr<command_batch>;

}  // namespace interlock::detail
