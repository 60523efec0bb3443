// Stable names and schema versions for the types the runtime stores or routes.
//
// By default a type's name is its unqualified C++ name ("MoneyDeposited" for
// bank::MoneyDeposited) and its schema version is 1. Pin or change them with
// static members, which is what stored data should rely on:
//   struct MoneyDeposited {
//     static constexpr std::string_view type_name = "MoneyDeposited";
//     static constexpr std::uint32_t schema_version = 2;
//     ...
//   };
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace interlock {
namespace detail {

template <class T>
constexpr std::string_view pretty_function() {
  return __PRETTY_FUNCTION__;  // "... [with T = ns::Name; ...]" (GCC) or "... [T = ns::Name]" (Clang)
}

constexpr std::string_view unqualified(std::string_view full) {
  auto args = full.find('<');
  auto head = full.substr(0, args);
  auto colon = head.rfind("::");
  return colon == std::string_view::npos ? full : full.substr(colon + 2);
}

template <class T>
constexpr std::string_view deduced_type_name() {
  constexpr std::string_view text = pretty_function<T>();
  constexpr auto start = text.find("T = ") + 4;
  constexpr auto end = text.find_first_of(";]", start);
  constexpr auto name = unqualified(text.substr(start, end - start));  // constexpr: found at compile time
  return name;
}

}  // namespace detail

template <class T>
constexpr std::string_view type_name_of() {
  if constexpr (requires { T::type_name; })
    return std::string_view{T::type_name};
  else
    return detail::deduced_type_name<T>();
}

template <class T>
constexpr std::uint32_t schema_version_of() {
  if constexpr (requires { T::schema_version; })
    return static_cast<std::uint32_t>(T::schema_version);
  else
    return 1;
}

}  // namespace interlock
