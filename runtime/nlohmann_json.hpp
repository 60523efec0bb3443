// nlohmann_json with Interlock, for the translation units that want it:
//   - commands, events, queries, results and members declared with nlohmann's
//     to_json/from_json (NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE) instead of
//     INTERLOCK_JSON are read and written through them (a slower path: a JSON
//     document is built);
//   - INTERLOCK_JSON types convert to and from nlohmann::json
//     (`nlohmann::json j = event; j.get<MoneyDeposited>()`).
// Include it before registering or dispatching such types. The rest of
// Interlock's headers leave nlohmann_json out, as it costs about a second of
// compile time in each translation unit that includes it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <interlock/runtime/detail/codec.hpp>

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

/// A type nlohmann_json can write and read (to_json/from_json).
template <class T>
concept nlohmann_serialisable = requires(nlohmann::json& out, const nlohmann::json& in, const T& x, T& y) {
  nlohmann::adl_serializer<T>::to_json(out, x);
  nlohmann::adl_serializer<T>::from_json(in, y);
};

/// Writes `j` as its dump() does, except that a string that is not valid
/// UTF-8 (dump() throws on one) is written as it is, for invalid_text_in() to
/// name its field: the writers never throw on bad text, their callers refuse it.
void write_json_document(std::string& out, const nlohmann::json& j);

template <class T>
  requires(!has_json_fields<T> && nlohmann_serialisable<T>)
struct json_fallback<T> {
  static void write(std::string& out, const T& v) { write_json_document(out, nlohmann::json(v)); }
  static T read(std::string_view text) { return nlohmann::json::parse(text).template get<T>(); }
};

}  // namespace interlock::detail

namespace nlohmann {

template <class T>
  requires interlock::detail::has_json_fields<T>
struct adl_serializer<T, void> {
  static void to_json(json& j, const T& value) {
    std::string text;
    interlock::detail::write_value(text, value);
    j = json::parse(text);
  }
  static void from_json(const json& j, T& value) { value = interlock::detail::decode_json<T>(j.dump()); }
};

}  // namespace nlohmann
