// JSON encoding of events, commands and results; decoding with errors that name
// the stream, version and type.
#pragma once

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include <caf/expected.hpp>

#include <interlock/core/detail/utf8.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/core/type_name.hpp>
#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/stored_event.hpp>
#include <interlock/runtime/detail/json_text.hpp>

namespace interlock {

/// A type the runtime can write and read as JSON: declared with
/// INTERLOCK_JSON, or with nlohmann_json's to_json/from_json where
/// <interlock/runtime/nlohmann_json.hpp> is included (json_text.hpp).
template <class T>
concept json_serialisable = detail::has_json_fields<T> || detail::has_json_fallback<T>;

/// What the runtime can store or send: a JSON-serialisable type, or an empty
/// struct (encoded as `{}`, so field-less commands and events need no code).
template <class T>
concept json_codable = json_serialisable<T> || std::is_empty_v<T>;

namespace detail {

template <class T>
std::string encode_json(const T& value) {
  if constexpr (has_json_fields<T>) {
    // Sized like the last value of T: one allocation where growing the string
    // took several. A relaxed hint: a stale one costs a regrowth, no more.
    // Capped: after one huge value, every small one would hold as much.
    constexpr std::size_t max_hint = 4096;
    static std::atomic<std::size_t> size_hint{0};
    std::string out;
    out.reserve(size_hint.load(std::memory_order_relaxed));
    write_value(out, value);
    size_hint.store(std::min(out.size() + out.size() / 8, max_hint), std::memory_order_relaxed);
    return out;
  } else if constexpr (has_json_fallback<T>) {
    std::string out;
    json_fallback<T>::write(out, value);
    return out;
  } else {
    return "{}";
  }
}

/// encode_json(), refusing what must not be stored: text that is not valid
/// UTF-8 (utf8.hpp says why refuse, not escape) is errc::invalid_argument
/// "<what()>: field 'memo' is not valid UTF-8 (byte 0xff at offset 3)".
/// `what` is called only then. Checking the written text costs one pass over
/// it, 8 bytes at a time where it is ASCII.
template <class T, class What>
caf::expected<std::string> encode_text(const T& value, What&& what) {
  auto text = encode_json(value);
  if (utf8_error_at(text) == std::string_view::npos) [[likely]]
    return text;
  return make_error(errc::invalid_argument, what() + ": " + invalid_text_in(text));
}

/// Throws on bad input (the callers turn that into an error value).
/// Throws std::invalid_argument unless `text` is one JSON object (what an
/// empty struct reads from).
void check_json_object(std::string_view text);

template <class T>
T decode_json(std::string_view text) {
  if constexpr (has_json_fields<T>) {
    T out{};
    json_cursor cursor{text};
    if (!read_value(cursor, out) || (!cursor.at_end() && !cursor.fail("unexpected text after the value")))
      throw std::invalid_argument(cursor.error());
    return out;
  } else if constexpr (has_json_fallback<T>) {
    return json_fallback<T>::read(text);
  } else {
    check_json_object(text);
    return T{};
  }
}

/// decode_json() into an object that already holds values: the fields in
/// `text` replace its own (containers are cleared first), the others keep
/// theirs (a read model's settings given to its constructor). Throws as
/// decode_json() does.
template <class T>
void decode_json_into(std::string_view text, T& out) {
  if constexpr (has_json_fields<T>) {
    json_cursor cursor{text};
    if (!read_value(cursor, out) || (!cursor.at_end() && !cursor.fail("unexpected text after the value")))
      throw std::invalid_argument(cursor.error());
  } else {
    out = decode_json<T>(text);
  }
}

/// Hash and equality that let an unordered_map<std::string, ...> be searched
/// with a string_view (no string built per event).
struct name_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using name_map = std::unordered_map<std::string, V, name_hash, std::equal_to<>>;

template <class E>
event_record encode_event(const E& event) {
  return {std::string{type_name_of<E>()}, schema_version_of<E>(), encode_json(event)};
}

template <class E>
caf::expected<E> decode_event(const event_view& e) {
  if (e.schema_version != schema_version_of<E>())
    return make_error(errc::schema_mismatch,
                      describe_event(e) + ": stored schema version " + std::to_string(e.schema_version) +
                          ", the code reads version " + std::to_string(schema_version_of<E>()) +
                          " and no upcaster converts it");
  try {
    return decode_json<E>(e.payload);
  } catch (const std::exception& ex) {
    return make_error(errc::corrupt_event, describe_event(e) + ": payload does not decode: " + ex.what());
  }
}

}  // namespace detail
}  // namespace interlock
