// JSON encoding of events, commands and results; decoding with errors that name
// the stream, version and type.
#pragma once

#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include <interlock/persistence/journal.hpp>
#include <interlock/runtime/errors.hpp>
#include <interlock/runtime/type_name.hpp>

namespace interlock {

/// A type nlohmann_json can write and read (to_json/from_json, or
/// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE).
template <class T>
concept json_serialisable = requires(nlohmann::json& out, const nlohmann::json& in, const T& x, T& y) {
  nlohmann::adl_serializer<T>::to_json(out, x);
  nlohmann::adl_serializer<T>::from_json(in, y);
};

namespace detail {

std::string describe_event(const stored_event& e);  // "stream BankAccount/42 version 3 type MoneyDeposited"

template <class E>
event_record encode_event(const E& event) {
  return {std::string{type_name_of<E>()}, schema_version_of<E>(), nlohmann::json(event).dump()};
}

template <class E>
caf::expected<E> decode_event(const stored_event& e) {
  if (e.schema_version != schema_version_of<E>())
    return make_error(errc::schema_mismatch,
                      describe_event(e) + ": stored schema version " + std::to_string(e.schema_version) +
                          ", the code reads version " + std::to_string(schema_version_of<E>()) +
                          " and no upcaster converts it");
  try {
    return nlohmann::json::parse(e.payload).get<E>();
  } catch (const std::exception& ex) {
    return make_error(errc::corrupt_event, describe_event(e) + ": payload does not decode: " + ex.what());
  }
}

}  // namespace detail
}  // namespace interlock
