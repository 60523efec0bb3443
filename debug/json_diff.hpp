// The change between two JSON states as lines a person reads, from
// nlohmann::json::diff's RFC 6902 patch: "balance: 100 -> 150",
// "+ tags[2]: \"x\"", "- tags[0]: \"y\"". Internal.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace interlock::debug::detail {

/// One line per operation of the patch from `before` to `after`, in its
/// order; none when they are equal. Paths name array elements by index in
/// brackets and object members joined by '.' ("accounts.a1.balance").
std::vector<std::string> describe_changes(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace interlock::debug::detail
