// INTERLOCK_JSON(Type, field, ...): the JSON form of a struct, for events,
// commands and queries.
//
//   struct MoneyDeposited { std::int64_t amount = 0; std::string note; };
//   INTERLOCK_JSON(MoneyDeposited, amount, note)     // in MoneyDeposited's namespace
//
// It defines what NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE defines (to_json and
// from_json, so the type works with nlohmann_json as usual) and, in addition,
// a field table Interlock uses to read and write the type straight from and to
// JSON text, without building a JSON document: several times faster on replay
// and catch-up. Types declared with plain nlohmann to_json/from_json work too,
// on the slower path. The stored payload is ordinary JSON either way.
//
// Field types on the fast path: bool, integers, floating point, std::string,
// std::optional, std::vector, std::map<std::string, T> and other INTERLOCK_JSON
// structs; any other member type goes through its nlohmann to_json/from_json.
// Reading is strict like nlohmann's macro: a missing field is an error naming
// it; unknown fields are ignored.
#pragma once

#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>

// nlohmann_json before 3.11.3 cannot (de)serialise std::optional; the fast path
// can, and both must agree: an empty optional is null.
#if NLOHMANN_JSON_VERSION_MAJOR == 3 && \
    (NLOHMANN_JSON_VERSION_MINOR < 11 || (NLOHMANN_JSON_VERSION_MINOR == 11 && NLOHMANN_JSON_VERSION_PATCH < 3))
namespace nlohmann {
template <class T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& value) {
    if (value) j = *value;
    else j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& value) {
    if (j.is_null()) value.reset();
    else value = j.get<T>();
  }
};
}  // namespace nlohmann
#endif

namespace interlock::detail {

template <class Owner, class Member>
struct field {
  const char* name;
  Member Owner::*member;
};

template <class Owner, class Member>
constexpr field<Owner, Member> make_field(const char* name, Member Owner::*member) {
  return {name, member};
}

template <class... Fields>
constexpr std::tuple<Fields...> make_fields(int, Fields... fields) {
  return {fields...};
}

}  // namespace interlock::detail

#define INTERLOCK_JSON_FIELD_(member) , ::interlock::detail::make_field(#member, &interlock_json_self::member)

#define INTERLOCK_JSON(Type, ...)                                                           \
  NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Type, __VA_ARGS__)                                      \
  [[maybe_unused]] inline constexpr auto interlock_json_fields(const Type*) {                \
    using interlock_json_self = Type;                                                        \
    return ::interlock::detail::make_fields(                                                 \
        0 NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(INTERLOCK_JSON_FIELD_, __VA_ARGS__)));    \
  }
