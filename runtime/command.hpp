// Commands and queries carry their result type.
//
//   struct DepositMoney { using result_type = void; std::int64_t amount; };
//   struct GetBalance   { using result_type = std::int64_t; std::string account_id; };
//
// or, equivalently, derive from interlock::command<R> / interlock::query<R>.
// The plain `result_type` form keeps brace initialisation (`DepositMoney{100}`,
// `DepositMoney{.amount = 100}`), which C++ forbids for a struct with a base.
// Commands and queries are JSON-serialisable (nlohmann to_json/from_json),
// because they may cross the network.
#pragma once

#include <type_traits>

namespace interlock {

template <class R>
struct command {
  using result_type = R;
};

template <class R>
struct query {
  using result_type = R;
};

template <class T>
concept has_result_type = requires { typename T::result_type; };

template <has_result_type T>
using result_of_t = typename T::result_type;

}  // namespace interlock
