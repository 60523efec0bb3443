// Context propagation: correlation and causation ids flow from a command to
// the events it emits (the journal stores them with every event) and on to
// the commands an event processor dispatches because of those events.
//
//   void on(const MoneyDeposited& e, const interlock::event_envelope& env) {
//     app.dispatch_async(loyalty_id, AwardPoints{...}, interlock::caused_by(env));
//   }
#pragma once

#include <string>

#include <interlock/core/event_envelope.hpp>
#include <interlock/runtime/options.hpp>

namespace interlock {

/// How an event is named as a cause: "event:<global position>".
inline std::string event_cause_id(const event_envelope& e) { return "event:" + std::to_string(e.position); }

/// Options for a command caused by event `e`: it joins e's conversation
/// (correlation id) and names e as its cause.
inline dispatch_options caused_by(const event_envelope& e, dispatch_options opts = {}) {
  opts.correlation_id = e.correlation_id.empty() ? e.command_id : e.correlation_id;
  opts.causation_id = event_cause_id(e);
  return opts;
}

}  // namespace interlock
