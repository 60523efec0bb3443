// The event processor base class: reacts to events by dispatching commands.
//
//   struct Loyalty : interlock::processor<Loyalty> {
//     using events   = interlock::types<MoneyDeposited>;
//     using commands = interlock::types<AwardPoints>;
//     void on(const MoneyDeposited& e, const interlock::event_envelope& env) {
//       dispatch("points-" + env.aggregate_id, AwardPoints{e.amount / 10});
//     }
//   };
//   builder.processor<Loyalty>();
//
// Handlers run once per event, in global order, from a durable checkpoint
// (at least once; catching up after a restart, like a durable projection).
// dispatch() only records the command: it is stored with the checkpoint of
// the event, in one transaction, and sent once stored, with the command id
// "<processor>:<event position>:<n>" (an idempotency key, so a command sent
// again after a crash takes effect once) and the event's correlation id, the
// event named as its cause. The handler never waits for the outcome, so it
// never blocks a thread. A command refused for good (rejected, unknown) is
// logged (or runs the processor's rejected(const C&, reason), if it has one); one that failed on the way (timeout, storage) is sent again, with
// backoff, until it is answered. Handlers must decide from the event alone
// (and their own fields): a processor keeps no state across restarts; a saga
// (saga.hpp) does.
#pragma once

#include <string>

#include <interlock/runtime/detail/process_core.hpp>
#include <interlock/runtime/types.hpp>

namespace interlock {

template <class Derived>
class processor : public detail::process_core {
 protected:
  /// Sends `cmd` to aggregate `aggregate_id` once the event's step is stored.
  template <class C>
  void dispatch(std::string aggregate_id, C cmd) {
    static_assert(contains_v<C, typename Derived::commands>,
                  "dispatch(): the command type is not listed in the processor's `commands`");
    record_command(std::move(aggregate_id), cmd);
  }
};

}  // namespace interlock
