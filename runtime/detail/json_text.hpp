// Reading and writing INTERLOCK_JSON types straight from and to JSON text: the
// fast path of the event codec (no JSON document is built). Types without a
// field table go through json_fallback<T>, which
// <interlock/runtime/nlohmann_json.hpp> defines for nlohmann_json's types.
#pragma once

#include <array>
#include <bitset>
#include <charconv>
#include <cmath>
#include <concepts>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <interlock/runtime/json_fields.hpp>

namespace interlock::detail {

template <class T>
concept has_json_fields = requires(const T* p) { interlock_json_fields(p); };

/// How a type without a field table is read and written: declared here, and
/// defined (for types with nlohmann_json's to_json/from_json) only by
/// <interlock/runtime/nlohmann_json.hpp>, so that nlohmann_json is compiled
/// only where it is used. Defines `static void write(std::string&, const T&)`
/// and `static T read(std::string_view)` (throws on bad input).
template <class T>
struct json_fallback;

template <class T>
concept has_json_fallback = requires(std::string& out, const T& v, std::string_view text) {
  json_fallback<T>::write(out, v);
  { json_fallback<T>::read(text) } -> std::same_as<T>;
};

template <class>
inline constexpr bool no_json_form = false;

/// A position in JSON text. Every read returns false on bad input, leaving a
/// message in error().
class json_cursor {
 public:
  explicit json_cursor(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool consume(char c) {
    skip_ws();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool read_string(std::string& out);
  /// An object key: a view into the text when it has no escapes, else `scratch`.
  bool read_key(std::string_view& key, std::string& scratch);
  bool read_bool(bool& out);
  bool read_double(double& out);
  template <class I>
  bool read_integer(I& out);
  bool skip_value();
  /// Skips one value and returns its text.
  bool raw_value(std::string_view& out);
  /// True (and consumed) if the next value is null.
  bool try_null();
  bool at_end() {
    skip_ws();
    return p_ == end_;
  }
  bool fail(std::string message);
  /// Prefixes the current error with "field 'name': ".
  bool fail_in_field(std::string_view name);
  const std::string& error() const { return error_; }

 private:
  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r')) ++p_;
  }
  bool read_number_text(std::string_view& out);
  bool read_escaped(std::string& out);
  bool skip_container(char open, char close);

  const char* p_;
  const char* end_;
  std::string error_;
};

template <class I>
bool json_cursor::read_integer(I& out) {
  std::string_view text;
  if (!read_number_text(text)) return false;
  using wide = std::conditional_t<std::is_signed_v<I>, long long, unsigned long long>;
  wide value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size())
    return fail("expected an integer, got " + std::string{text});
  if (value < static_cast<wide>(std::numeric_limits<I>::min()) ||
      value > static_cast<wide>(std::numeric_limits<I>::max()))
    return fail("integer " + std::string{text} + " is out of range");
  out = static_cast<I>(value);
  return true;
}

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_string_map : std::false_type {};
template <class T, class C, class A>
struct is_string_map<std::map<std::string, T, C, A>> : std::true_type {};

template <class T>
bool read_value(json_cursor& c, T& out);

template <class T>
bool read_object(json_cursor& c, T& out) {
  static constexpr auto fields = interlock_json_fields(static_cast<const T*>(nullptr));
  constexpr std::size_t count = std::tuple_size_v<std::remove_cv_t<decltype(fields)>>;
  std::bitset<count + 1> seen;
  std::string scratch;
  if (!c.consume('{')) return c.fail("expected an object");
  if (!c.consume('}')) {
    do {
      std::string_view key;
      if (!c.read_key(key, scratch)) return false;
      if (!c.consume(':')) return c.fail("expected ':' after key '" + std::string{key} + "'");
      bool matched = false, ok = true;
      std::size_t index = 0;
      std::apply([&](const auto&... f) {
        ((!matched && key == f.name ? (matched = true, seen.set(index), ok = read_value(c, out.*(f.member))) : false,
          ++index),
         ...);
      }, fields);
      if (!matched) ok = c.skip_value();
      if (!ok) return c.fail_in_field(key);
    } while (c.consume(','));
    if (!c.consume('}')) return c.fail("expected ',' or '}' in an object");
  }
  std::size_t index = 0;
  bool complete = true;
  std::apply([&](const auto&... f) {
    ((complete = complete && (seen.test(index) || c.fail(std::string{"missing field '"} + f.name + "'")), ++index), ...);
  }, fields);
  return complete;
}

template <class T>
bool read_value(json_cursor& c, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    return c.read_bool(out);
  } else if constexpr (std::is_integral_v<T>) {
    return c.read_integer(out);
  } else if constexpr (std::is_floating_point_v<T>) {
    double d = 0;
    if (!c.read_double(d)) return false;
    out = static_cast<T>(d);
    return true;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return c.read_string(out);
  } else if constexpr (is_optional<T>::value) {
    if (c.try_null()) return out.reset(), true;
    out.emplace();
    return read_value(c, *out);
  } else if constexpr (is_vector<T>::value) {
    out.clear();
    if (!c.consume('[')) return c.fail("expected an array");
    if (c.consume(']')) return true;
    do {
      out.emplace_back();
      if (!read_value(c, out.back())) return false;
    } while (c.consume(','));
    return c.consume(']') || c.fail("expected ',' or ']' in an array");
  } else if constexpr (is_string_map<T>::value) {
    out.clear();
    std::string scratch;
    if (!c.consume('{')) return c.fail("expected an object");
    if (c.consume('}')) return true;
    do {
      std::string_view key;
      if (!c.read_key(key, scratch) || !(c.consume(':') || c.fail("expected ':'"))) return false;
      if (!read_value(c, out[std::string{key}])) return c.fail_in_field(key);
    } while (c.consume(','));
    return c.consume('}') || c.fail("expected ',' or '}' in an object");
  } else if constexpr (has_json_fields<T>) {
    return read_object(c, out);
  } else if constexpr (has_json_fallback<T>) {
    std::string_view raw;
    if (!c.raw_value(raw)) return false;
    try {
      out = json_fallback<T>::read(raw);
    } catch (const std::exception& ex) {
      return c.fail(ex.what());
    }
    return true;
  } else {
    static_assert(no_json_form<T>, "a member type has no JSON form: declare INTERLOCK_JSON for it, or give it "
                                   "nlohmann to_json/from_json and include <interlock/runtime/nlohmann_json.hpp>");
    return false;
  }
}

void write_json_string(std::string& out, std::string_view s);
void write_json_double(std::string& out, double d);

/// "" if JSON text written by write_value() is all valid UTF-8, else what is
/// not, naming the field it is in: "field 'lines[2].sku' is not valid UTF-8
/// (byte 0xff at offset 3)", the offset counted in the string's value. One
/// pass over the text when it is valid; only a failure walks the JSON.
std::string invalid_text_in(std::string_view json);

/// `,"name":` for each field of T, built once (the first field's is written
/// without its comma).
template <class T>
const auto& json_keys() {
  static const auto keys = std::apply(
      [](const auto&... f) { return std::array<std::string, sizeof...(f)>{(",\"" + std::string{f.name} + "\":")...}; },
      interlock_json_fields(static_cast<const T*>(nullptr)));
  return keys;
}

template <class T>
void write_value(std::string& out, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
  } else if constexpr (std::is_floating_point_v<T>) {
    write_json_double(out, static_cast<double>(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    write_json_string(out, v);
  } else if constexpr (is_optional<T>::value) {
    if (v) write_value(out, *v);
    else out += "null";
  } else if constexpr (is_vector<T>::value) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      write_value(out, v[i]);
    }
    out += ']';
  } else if constexpr (is_string_map<T>::value) {
    out += '{';
    bool first = true;
    for (auto& [key, value] : v) {
      if (!std::exchange(first, false)) out += ',';
      write_json_string(out, key);
      out += ':';
      write_value(out, value);
    }
    out += '}';
  } else if constexpr (has_json_fields<T>) {
    static constexpr auto fields = interlock_json_fields(static_cast<const T*>(nullptr));
    const auto& keys = json_keys<T>();
    out += '{';
    std::size_t index = 0;
    auto write_key = [&] {
      const std::string_view key = keys[index];
      out += index++ == 0 ? key.substr(1) : key;
    };
    std::apply([&](const auto&... f) { ((write_key(), write_value(out, v.*(f.member))), ...); }, fields);
    out += '}';
  } else if constexpr (has_json_fallback<T>) {
    json_fallback<T>::write(out, v);
  } else {
    static_assert(no_json_form<T>, "a member type has no JSON form: declare INTERLOCK_JSON for it, or give it "
                                   "nlohmann to_json/from_json and include <interlock/runtime/nlohmann_json.hpp>");
  }
}

}  // namespace interlock::detail
