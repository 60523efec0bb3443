#pragma once

#include <type_traits>

namespace interlock {

/// A compile-time list of types: what an aggregate handles and emits, what a
/// projection consumes and answers. Registration is these lists; the handler
/// for each listed type is found by overload resolution and checked at compile time.
///   using commands = interlock::types<OpenAccount, DepositMoney>;
template <class... Ts>
struct types {};

template <class T, class List>
struct contains;
template <class T, class... Ts>
struct contains<T, types<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};
template <class T, class List>
inline constexpr bool contains_v = contains<T, List>::value;

}  // namespace interlock
