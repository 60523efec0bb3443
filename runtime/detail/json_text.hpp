// Reading and writing INTERLOCK_JSON types straight from and to JSON text: the
// fast path of the event codec (no JSON document is built). Types without a
// field table go through json_fallback<T>, which
// <interlock/runtime/nlohmann_json.hpp> defines for nlohmann_json's types.
#pragma once

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
#include <utility>
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
void write_value(std::string& out, const T& v);

// An INTERLOCK_JSON type is read and written through a table of its fields,
// built once per type: each field's key, where it lies in the object, and
// its codec. The reading and writing of an object, of scalars and of strings
// is compiled once, in the library; a user's translation unit compiles only
// the table and the codecs of its composite members (optional, vector, map,
// nested types), which is what makes registering a type cheap to compile.

/// How one member type is read and written, type erased.
struct json_codec {
  bool (*read)(json_cursor& c, void* value);
  void (*write)(std::string& out, const void* value);
};

/// The library's codecs of the scalar and string member types.
enum class json_scalar : unsigned char {
  boolean, char_, schar, uchar, short_, ushort, int_, uint, long_, ulong, llong, ullong, float_, double_, long_double,
  string,
  count
};
extern const json_codec json_scalar_codecs[static_cast<std::size_t>(json_scalar::count)];

template <class T>
constexpr std::optional<json_scalar> json_scalar_of() {
  using S = json_scalar;
  if constexpr (std::is_same_v<T, bool>) return S::boolean;
  else if constexpr (std::is_same_v<T, char>) return S::char_;
  else if constexpr (std::is_same_v<T, signed char>) return S::schar;
  else if constexpr (std::is_same_v<T, unsigned char>) return S::uchar;
  else if constexpr (std::is_same_v<T, short>) return S::short_;
  else if constexpr (std::is_same_v<T, unsigned short>) return S::ushort;
  else if constexpr (std::is_same_v<T, int>) return S::int_;
  else if constexpr (std::is_same_v<T, unsigned>) return S::uint;
  else if constexpr (std::is_same_v<T, long>) return S::long_;
  else if constexpr (std::is_same_v<T, unsigned long>) return S::ulong;
  else if constexpr (std::is_same_v<T, long long>) return S::llong;
  else if constexpr (std::is_same_v<T, unsigned long long>) return S::ullong;
  else if constexpr (std::is_same_v<T, float>) return S::float_;
  else if constexpr (std::is_same_v<T, double>) return S::double_;
  else if constexpr (std::is_same_v<T, long double>) return S::long_double;
  else if constexpr (std::is_same_v<T, std::string>) return S::string;
  else return std::nullopt;
}

template <class T>
const json_codec* json_codec_of() {
  if constexpr (constexpr auto scalar = json_scalar_of<T>()) {
    return &json_scalar_codecs[static_cast<std::size_t>(*scalar)];
  } else {
    static constexpr json_codec codec{
        [](json_cursor& c, void* value) { return read_value(c, *static_cast<T*>(value)); },
        [](std::string& out, const void* value) { write_value(out, *static_cast<const T*>(value)); }};
    return &codec;
  }
}

struct json_field_info {
  std::string_view name;
  std::string key;  // ,"name": (the first field is written without the comma)
  std::size_t offset;  // of the member in the object
  const json_codec* codec;
};

/// The fields of an INTERLOCK_JSON type, in declaration order (at most 64).
using json_fields_info = std::vector<json_field_info>;

/// Reads an object into the fields at `object`: unknown keys are skipped, a
/// missing field is an error naming it (json_cursor::error()).
bool read_fields(json_cursor& c, void* object, const json_fields_info& fields);
void write_fields(std::string& out, const void* object, const json_fields_info& fields);

template <class T, class Owner, class M>  // Owner: T, or a base of T the member comes from
json_field_info field_info(const T& probe, const field<Owner, M>& f) {
  // The member's place in a default-constructed T holds for every T.
  auto offset = static_cast<std::size_t>(reinterpret_cast<const char*>(&(probe.*f.member)) -
                                         reinterpret_cast<const char*>(&probe));
  return {f.name, std::string{",\""}.append(f.name).append("\":"), offset, json_codec_of<M>()};
}

template <class T>
const json_fields_info& json_fields_of() {
  static const json_fields_info info = std::apply(
      [](const auto&... f) {
        const T probe{};
        return json_fields_info{field_info(probe, f)...};
      },
      interlock_json_fields(static_cast<const T*>(nullptr)));
  return info;
}

template <class T>
bool read_object(json_cursor& c, T& out) {
  return read_fields(c, &out, json_fields_of<T>());
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
    write_fields(out, &v, json_fields_of<T>());
  } else if constexpr (has_json_fallback<T>) {
    json_fallback<T>::write(out, v);
  } else {
    static_assert(no_json_form<T>, "a member type has no JSON form: declare INTERLOCK_JSON for it, or give it "
                                   "nlohmann to_json/from_json and include <interlock/runtime/nlohmann_json.hpp>");
  }
}

}  // namespace interlock::detail
