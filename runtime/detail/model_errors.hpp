// The errors of aggregate_model_base and projection_model_base that only the
// library's own code raises; declared here, not in the models' headers, so a
// user's translation unit does not see them. Internal (not installed).
#pragma once

#include <string_view>
#include <typeinfo>

#include <caf/error.hpp>

#include <interlock/model/erased.hpp>
#include <interlock/persistence/journal.hpp>

namespace interlock::detail {

/// Inside a catch block around a command handler: errc::rejected with what() as it is.
caf::error handler_exception_error();
/// Why `cmd` cannot run on aggregate `aggregate`, whose handler for its type
/// name takes C++ type `handled` (null: no handler) and can store its result
/// for a retry if `result_storable`; none if it can.
caf::error check_command_fits(std::string_view aggregate, const erased_command& cmd, const std::type_info* handled,
                              bool result_storable);
/// errc::unknown_event_type: aggregate `aggregate` has no applier for `e`.
caf::error no_applier_error(const event_view& e, std::string_view aggregate);
/// Why `q` cannot be answered by projection `projection`, whose handler for
/// its type name takes C++ type `handled` (null: no handler); none if it can.
caf::error check_query_fits(std::string_view projection, const erased_query& q, const std::type_info* handled);
/// Inside a catch block around a query handler.
caf::error query_exception_error(const erased_query& q);

}  // namespace interlock::detail
