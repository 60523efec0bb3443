// An event type a registered aggregate or projection handles: the name it is
// stored under and the C++ type it decodes to, with the schema versions stored
// data may hold (build() checks the upcasters cover them).
#pragma once

#include <cstdint>
#include <string>
#include <typeindex>

namespace interlock::detail {

/// An event type name and the C++ type it decodes to.
struct event_binding {
  std::string name;
  std::type_index type;
  std::uint32_t schema_version = 1;
  std::uint32_t oldest_schema_version = 1;  // the oldest version stored data may hold
};

}  // namespace interlock::detail
