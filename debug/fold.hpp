// Folding one aggregate's stream for the console: its events, from the
// first, through the upcasters into a fresh instance of its registered type,
// as recovery and load_as_of() do, but on the console's own journal
// connection and never from a snapshot (the events are the truth; a
// snapshot is what check-snapshots checks). Internal.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <interlock/model/aggregate_instance.hpp>
#include <interlock/persistence/journal.hpp>
#include <interlock/runtime/as_of.hpp>

#include "console.hpp"

namespace interlock::debug::detail {

/// Called after each event applied (as applied: after upcasting), with the
/// instance holding the state it left.
using on_applied = std::function<void(const stored_event&, const interlock::detail::aggregate_instance&)>;

struct fold_result {
  std::unique_ptr<interlock::detail::aggregate_instance> instance;
  std::optional<stored_event> last;  // the last event applied; nullopt: none within the bound
};

/// Folds stream `s` up to `bound`. Failures: `s.type` not registered, no such
/// stream in the journal, an event that does not apply or a break in the
/// versions (naming stream, version and type).
fold_result fold(const console& c, journal& j, const stream_name& s, as_of bound, const on_applied& each = {});

/// The instance's state as JSON text; a failure saying the type has no JSON
/// form (INTERLOCK_JSON) if it has none.
std::string state_json(const interlock::detail::aggregate_instance& instance, const std::string& type);

}  // namespace interlock::debug::detail
