// The driver of one event processor or saga: it sends the commands the
// process decided (model/process_instance.hpp) and turns their outcomes and
// the sagas' deadlines into steps, which the read store runs.
//
//  - A command arrives here only once its step is stored (its outbox row),
//    and is sent under its stored command id, at most `max_in_flight` at once
//    so a catch-up that decides thousands does not flood the aggregates.
//  - Answered: its row is deleted. Refused for good (any error but timeout,
//    unavailable, storage and conflict): its row is deleted and the saga's
//    rejected() runs, in one step. Failed on the way: sent again after a
//    backoff (100 ms, doubling up to 10 s), until answered.
//  - A deadline fires a step once it is due, the process is live (so a
//    catch-up reaches the events that may have cancelled it first), no
//    command of its conversation is on its way (sent, not yet answered: at
//    most the command timeout), the events of the commands answered are
//    applied, and the outbox holds no command of the conversation the driver
//    has not heard of (checked in the deadline's transaction). So a refund
//    does not overtake the credit it compensates for as it lands; a command
//    waiting to be sent again (its target does not answer) does not hold a
//    deadline back, which is what a deadline is for.
//  - A step the read store could not run is tried again a second later.
// Told (load_outbox_atom) once the process's instances can reach it, it asks
// the read store for every row and deadline left from before: a restart
// finishes what a crash interrupted. The driver uses an instance of the
// process's own for its steps.
// Internal.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include <interlock/actors/projection_progress.hpp>
#include <interlock/model/process_instance.hpp>

namespace interlock {

/// Sends `row`'s command (`body`, decoded) and calls `done` with the outcome,
/// from any thread: the global position of the last event the command stored
/// (0: none), or its error.
using command_outcome = std::function<void(caf::expected<std::uint64_t>)>;
using command_sender = std::function<void(const detail::outbox_row& row, std::shared_ptr<const void> body,
                                          const std::type_info& type, command_outcome done)>;

struct process_driver_config {
  std::string name;
  std::shared_ptr<detail::process_instance> instance;  // the driver's own
  caf::actor store;                                    // the read store actor
  std::shared_ptr<detail::projection_progress> progress;  // the process's status: live or not
  command_sender send;
  std::chrono::milliseconds journal_timeout{30'000};
  std::size_t max_in_flight = 256;
};

caf::actor spawn_process_driver(caf::actor_system& sys, process_driver_config config);

}  // namespace interlock
