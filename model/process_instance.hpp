// How the actors drive a user's event processor or saga without knowing its
// type (runtime/detail/process_model.hpp implements it for one).
//
// A process is a durable read model whose "tables" are the runtime's own: the
// state of each saga instance (interlock_saga_state) and the commands it has
// decided to send, not yet answered (interlock_outbox). Its steps run on the
// read store's thread, each in the transaction of the chunk of events (and
// checkpoint) it came from, so a step's new state and its commands are stored
// together or not at all. Only once that transaction commits are the new
// commands handed to the process's driver (actors/process_driver.hpp), which
// sends them; a command answered is deleted from the outbox in a step of its
// own. After a crash the driver sends what the outbox still holds again, under
// the same command ids: the idempotency ledger makes each take effect once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include <interlock/model/projection_instance.hpp>

namespace interlock::detail {

/// A command a process decided to send: a row of interlock_outbox.
struct outbox_row {
  std::int64_t id = 0;   // the row's id: the order the process decided them in
  std::string key;       // the saga instance (its conversation id); "" for a processor
  std::string command_id;
  std::string command_type;
  std::string aggregate_id;
  std::string body;  // the command as JSON
  std::string correlation_id;
  std::string causation_id;
};

/// A saga instance's deadline: due at `due_us` (wall clock, µs since the Unix
/// epoch); 0 when it was cancelled or the saga completed.
struct deadline_entry {
  std::string key;
  std::int64_t due_us = 0;
};

/// What a committed transaction gave the driver to do.
struct process_news {
  std::vector<outbox_row> commands;
  std::vector<deadline_entry> deadlines;
};
using process_news_ptr = std::shared_ptr<const process_news>;

/// Where a process's instances send their news (to its driver): set once,
/// before any event is applied; called on the read store's thread.
struct process_link {
  std::function<void(process_news_ptr)> publish;
};

/// The steps the driver asks for, each run by the read store in a transaction
/// (read store messages carry them as store_job): the instance publishes what
/// the step decided to the driver once it commits.
class process_instance : public projection_instance {
 public:
  /// These rows' commands were answered: they leave the outbox.
  virtual caf::error commands_done(const std::vector<std::int64_t>& ids) = 0;
  /// `row`'s command was refused for good (`reason`, as describe() words it):
  /// it leaves the outbox, and the saga's rejected(const C&, reason) runs.
  virtual caf::error command_refused(const outbox_row& row, const std::string& reason) = 0;
  /// Saga instance `key`'s deadline `due_us` has come: unless it was moved or
  /// cancelled since, it is cleared and the saga's deadline_passed() runs.
  /// Unless the outbox holds a command of `key` with an id above `seen_id`
  /// (one its driver has not heard of yet): then nothing runs, and
  /// `held_back` is set.
  virtual caf::error deadline_due(const std::string& key, std::int64_t due_us, std::int64_t seen_id,
                                  bool& held_back) = 0;
  /// Publishes every command in the outbox and every deadline (a start).
  virtual caf::error publish_pending() = 0;
  /// The command in `row` as the application dispatches it (typed body), or
  /// errc::corrupt_event if its JSON does not decode.
  virtual caf::expected<std::pair<std::shared_ptr<const void>, const std::type_info*>> decode_command(
      const outbox_row& row) const = 0;
};

}  // namespace interlock::detail
