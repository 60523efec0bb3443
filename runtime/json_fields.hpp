// INTERLOCK_JSON(Type, field, ...): the JSON form of a struct, for events,
// commands and queries.
//
//   struct MoneyDeposited { std::int64_t amount = 0; std::string note; };
//   INTERLOCK_JSON(MoneyDeposited, amount, note)     // in MoneyDeposited's namespace
//
// It defines a field table Interlock uses to read and write the type straight
// from and to JSON text, without building a JSON document: several times
// faster on replay and catch-up than a JSON library's document, and nothing to
// compile from such a library in the user's translation units. The stored
// payload is ordinary JSON.
//
// Field types: bool, integers, floating point, std::string, std::optional,
// std::vector, std::map<std::string, T> and other INTERLOCK_JSON structs. Types
// with nlohmann_json's to_json/from_json (NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE),
// as whole types or as members, work too, on a slower path, in translation
// units that include <interlock/runtime/nlohmann_json.hpp> (which also makes
// INTERLOCK_JSON types convert to and from nlohmann::json).
//
// Reading is strict like nlohmann's macro: a missing field is an error naming
// it; unknown fields are ignored. The fields may come from base classes, but
// not from a virtual base (the runtime finds a field by its offset).
#pragma once

#include <optional>
#include <tuple>

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
// One INTERLOCK_JSON_FIELD_(m) per argument, for up to 64 fields (as nlohmann's own macros).
#define INTERLOCK_JSON_NTH_(_1,_2,_3,_4,_5,_6,_7,_8,_9,_10,_11,_12,_13,_14,_15,_16,_17,_18,_19,_20,_21,_22,_23,_24,_25,_26,_27,_28,_29,_30,_31,_32,_33,_34,_35,_36,_37,_38,_39,_40,_41,_42,_43,_44,_45,_46,_47,_48,_49,_50,_51,_52,_53,_54,_55,_56,_57,_58,_59,_60,_61,_62,_63,_64, N, ...) N
#define INTERLOCK_JSON_COUNT_(...) INTERLOCK_JSON_NTH_(__VA_ARGS__, 64,63,62,61,60,59,58,57,56,55,54,53,52,51,50,49,48,47,46,45,44,43,42,41,40,39,38,37,36,35,34,33,32,31,30,29,28,27,26,25,24,23,22,21,20,19,18,17,16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1)
#define INTERLOCK_JSON_CAT_(a, b) INTERLOCK_JSON_CAT2_(a, b)
#define INTERLOCK_JSON_CAT2_(a, b) a##b
#define INTERLOCK_JSON_EACH_(...) INTERLOCK_JSON_CAT_(INTERLOCK_JSON_E, INTERLOCK_JSON_COUNT_(__VA_ARGS__))(__VA_ARGS__)
#define INTERLOCK_JSON_E1(m) INTERLOCK_JSON_FIELD_(m)
#define INTERLOCK_JSON_E2(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E1(__VA_ARGS__)
#define INTERLOCK_JSON_E3(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E2(__VA_ARGS__)
#define INTERLOCK_JSON_E4(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E3(__VA_ARGS__)
#define INTERLOCK_JSON_E5(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E4(__VA_ARGS__)
#define INTERLOCK_JSON_E6(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E5(__VA_ARGS__)
#define INTERLOCK_JSON_E7(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E6(__VA_ARGS__)
#define INTERLOCK_JSON_E8(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E7(__VA_ARGS__)
#define INTERLOCK_JSON_E9(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E8(__VA_ARGS__)
#define INTERLOCK_JSON_E10(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E9(__VA_ARGS__)
#define INTERLOCK_JSON_E11(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E10(__VA_ARGS__)
#define INTERLOCK_JSON_E12(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E11(__VA_ARGS__)
#define INTERLOCK_JSON_E13(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E12(__VA_ARGS__)
#define INTERLOCK_JSON_E14(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E13(__VA_ARGS__)
#define INTERLOCK_JSON_E15(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E14(__VA_ARGS__)
#define INTERLOCK_JSON_E16(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E15(__VA_ARGS__)
#define INTERLOCK_JSON_E17(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E16(__VA_ARGS__)
#define INTERLOCK_JSON_E18(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E17(__VA_ARGS__)
#define INTERLOCK_JSON_E19(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E18(__VA_ARGS__)
#define INTERLOCK_JSON_E20(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E19(__VA_ARGS__)
#define INTERLOCK_JSON_E21(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E20(__VA_ARGS__)
#define INTERLOCK_JSON_E22(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E21(__VA_ARGS__)
#define INTERLOCK_JSON_E23(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E22(__VA_ARGS__)
#define INTERLOCK_JSON_E24(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E23(__VA_ARGS__)
#define INTERLOCK_JSON_E25(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E24(__VA_ARGS__)
#define INTERLOCK_JSON_E26(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E25(__VA_ARGS__)
#define INTERLOCK_JSON_E27(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E26(__VA_ARGS__)
#define INTERLOCK_JSON_E28(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E27(__VA_ARGS__)
#define INTERLOCK_JSON_E29(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E28(__VA_ARGS__)
#define INTERLOCK_JSON_E30(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E29(__VA_ARGS__)
#define INTERLOCK_JSON_E31(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E30(__VA_ARGS__)
#define INTERLOCK_JSON_E32(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E31(__VA_ARGS__)
#define INTERLOCK_JSON_E33(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E32(__VA_ARGS__)
#define INTERLOCK_JSON_E34(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E33(__VA_ARGS__)
#define INTERLOCK_JSON_E35(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E34(__VA_ARGS__)
#define INTERLOCK_JSON_E36(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E35(__VA_ARGS__)
#define INTERLOCK_JSON_E37(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E36(__VA_ARGS__)
#define INTERLOCK_JSON_E38(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E37(__VA_ARGS__)
#define INTERLOCK_JSON_E39(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E38(__VA_ARGS__)
#define INTERLOCK_JSON_E40(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E39(__VA_ARGS__)
#define INTERLOCK_JSON_E41(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E40(__VA_ARGS__)
#define INTERLOCK_JSON_E42(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E41(__VA_ARGS__)
#define INTERLOCK_JSON_E43(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E42(__VA_ARGS__)
#define INTERLOCK_JSON_E44(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E43(__VA_ARGS__)
#define INTERLOCK_JSON_E45(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E44(__VA_ARGS__)
#define INTERLOCK_JSON_E46(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E45(__VA_ARGS__)
#define INTERLOCK_JSON_E47(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E46(__VA_ARGS__)
#define INTERLOCK_JSON_E48(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E47(__VA_ARGS__)
#define INTERLOCK_JSON_E49(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E48(__VA_ARGS__)
#define INTERLOCK_JSON_E50(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E49(__VA_ARGS__)
#define INTERLOCK_JSON_E51(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E50(__VA_ARGS__)
#define INTERLOCK_JSON_E52(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E51(__VA_ARGS__)
#define INTERLOCK_JSON_E53(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E52(__VA_ARGS__)
#define INTERLOCK_JSON_E54(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E53(__VA_ARGS__)
#define INTERLOCK_JSON_E55(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E54(__VA_ARGS__)
#define INTERLOCK_JSON_E56(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E55(__VA_ARGS__)
#define INTERLOCK_JSON_E57(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E56(__VA_ARGS__)
#define INTERLOCK_JSON_E58(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E57(__VA_ARGS__)
#define INTERLOCK_JSON_E59(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E58(__VA_ARGS__)
#define INTERLOCK_JSON_E60(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E59(__VA_ARGS__)
#define INTERLOCK_JSON_E61(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E60(__VA_ARGS__)
#define INTERLOCK_JSON_E62(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E61(__VA_ARGS__)
#define INTERLOCK_JSON_E63(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E62(__VA_ARGS__)
#define INTERLOCK_JSON_E64(m, ...) INTERLOCK_JSON_FIELD_(m) INTERLOCK_JSON_E63(__VA_ARGS__)

#define INTERLOCK_JSON(Type, ...)                                                        \
  [[maybe_unused]] inline constexpr auto interlock_json_fields(const Type*) {             \
    using interlock_json_self = Type;                                                     \
    return ::interlock::detail::make_fields(0 INTERLOCK_JSON_EACH_(__VA_ARGS__));        \
  }
