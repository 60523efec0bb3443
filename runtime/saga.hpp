// The saga base class (a process manager): state per conversation, kept
// across restarts, that reacts to the events of several aggregates by
// dispatching commands.
//
//   struct Transfer : interlock::saga<Transfer> {
//     using events   = interlock::types<TransferRequested, MoneyDebited, MoneyCredited>;
//     using commands = interlock::types<Debit, Credit, Refund>;
//     std::string from, to;
//     std::int64_t amount = 0;
//
//     void start(const TransferRequested& e) {   // a new conversation
//       from = e.from; to = e.to; amount = e.amount;
//       dispatch(from, Debit{amount});
//     }
//     void on(const MoneyDebited&) { dispatch(to, Credit{amount}); set_deadline(std::chrono::seconds(30)); }
//     void on(const MoneyCredited&) { complete(); }
//     void rejected(const Credit&, const std::string& reason) { dispatch(from, Refund{amount}); complete(); }
//     void deadline_passed() { dispatch(from, Refund{amount}); complete(); }
//   };
//   INTERLOCK_JSON(Transfer, from, to, amount)
//   builder.saga<Transfer>();
//
// Each event belongs to a conversation: by default its correlation id, which
// every command the saga dispatches carries, so the events they cause come
// back to it. A saga whose events come from commands of their own (a user
// pays an order the saga watches) names the conversation itself:
//   static std::string conversation(const interlock::event_envelope& env) { return env.aggregate_id; }
// or per event type: static std::string conversation(const Paid& e, const interlock::event_envelope&).
// An event handled by start() opens its conversation (or runs on the open
// one); an event handled by on() runs on the open one, and is passed over if
// there is none.
// The saga's fields are its state, stored as JSON (INTERLOCK_JSON) after each
// step in the transaction of the step's checkpoint and commands: a step is
// stored once or not at all, and a restart resumes every open conversation.
// Commands are sent as a processor's are (processor.hpp): once stored, under
// deterministic ids, until answered. A command refused for good (rejected,
// unknown) runs rejected(const C&, const std::string& reason) if the saga has
// one for C (else it is logged). A deadline (one per conversation; setting
// another replaces it) runs deadline_passed() when it comes, unless the saga
// cancelled it or completed first. complete() ends the conversation: its
// state is deleted once the step is stored. Handlers must only decide (from
// the state and the event) and must not block.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

#include <interlock/runtime/detail/process_core.hpp>
#include <interlock/runtime/types.hpp>

namespace interlock {

template <class Derived>
class saga : public detail::process_core {
 protected:
  /// Sends `cmd` to aggregate `aggregate_id` once this step is stored.
  template <class C>
  void dispatch(std::string aggregate_id, C cmd) {
    static_assert(contains_v<C, typename Derived::commands>,
                  "dispatch(): the command type is not listed in the saga's `commands`");
    record_command(std::move(aggregate_id), cmd);
  }
  /// Runs deadline_passed() `after` from now (wall clock), unless set again,
  /// cancelled or completed before.
  void set_deadline(std::chrono::milliseconds after) {
    static_assert(requires(Derived& d) { d.deadline_passed(); },
                  "set_deadline(): the saga needs a `void deadline_passed()`");
    record_deadline(std::max(after, std::chrono::milliseconds{1}));
  }
  void cancel_deadline() { record_deadline(std::chrono::milliseconds{0}); }
  /// Ends the conversation once this step is stored.
  void complete() { record_completion(); }
  /// The conversation id (the correlation id of its events and commands).
  const std::string& conversation_id() const noexcept { return conversation(); }
};

}  // namespace interlock
