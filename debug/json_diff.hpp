// The change between two JSON states as lines a person reads, from
// nlohmann::json::diff's RFC 6902 patch: "balance: 100 -> 150",
// "+ tags[2]: \"x\"", "- tags[0]: \"y\"", and per operation the JSON
// pointer it touched (for the web view's highlighting). Internal.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace interlock::debug::detail {

/// One operation of the patch from `before` to `after`.
struct change {
  std::string op;    // "add", "replace" or "remove"
  std::string path;  // a JSON pointer, an array's end ("-") resolved to the index the element got
  std::string text;  // the line describe_changes() gives it
};

/// The operations of the patch from `before` to `after`, in its order, each
/// described on the state the ones before it left; none when they are equal.
std::vector<change> changes_between(const nlohmann::json& before, const nlohmann::json& after);

/// One line per operation of the patch from `before` to `after`, in its
/// order; none when they are equal. Paths name array elements by index in
/// brackets and object members joined by '.' ("accounts.a1.balance").
std::vector<std::string> describe_changes(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace interlock::debug::detail
