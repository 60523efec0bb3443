// What the runtime says about a stored event (an event_view): its name in
// errors, the error for a break in its stream's versions, and the envelope a
// handler receives.
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include <interlock/core/event_envelope.hpp>
#include <interlock/persistence/journal.hpp>

namespace interlock::detail {

std::string describe_event(const event_view& e);  // "stream BankAccount/42 version 3 type MoneyDeposited"

/// The errc::corrupt_event for `e` where its stream's next version is
/// `expected` (a gap or a repeated version), naming stream, version and
/// position: "stream BankAccount/42 version 5 type MoneyDeposited at position
/// 17: expected version 4 (version 4 is missing)".
caf::error version_break(const event_view& e, std::uint64_t expected);

/// Fills `out` from `v` (reusing its strings' capacity).
void fill_envelope(const event_view& v, event_envelope& out);

}  // namespace interlock::detail
