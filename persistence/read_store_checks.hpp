// The checks every read store makes before it stores anything (read_store.hpp's
// contract), shared by the implementations. Internal to persistence/.
#pragma once

#include <string_view>

#include <caf/error.hpp>

#include <interlock/persistence/read_store.hpp>

namespace interlock::detail {

/// errc::invalid_argument naming the projection if `name` is not an
/// identifier (core/detail/utf8.hpp).
caf::error check_projection_name(std::string_view name);

/// As check_projection_name(), and the state must be valid UTF-8.
caf::error check_checkpoint(std::string_view name, const projection_checkpoint& cp);

}  // namespace interlock::detail
