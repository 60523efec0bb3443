// Upcasting: reading events stored under an older schema as the current one.
//
// Stored events are never rewritten. When an event's payload changes shape,
// its C++ type bumps `schema_version` and the application registers one
// upcaster per old version, v -> v+1, on the JSON payload; on read the chain
// is applied until the event reaches a version with no further upcaster (the
// current one, once check() has passed). A type that is renamed or split into
// several events gets a rename or split at the version where that happened;
// what it produces is upcast further in turn.
//
//   interlock::upcaster_chain up;
//   up.step<MoneyDeposited>(1, [](nlohmann::json p) { p["currency"] = "EUR"; return p; })
//     .rename("FundsAdded", 1, "MoneyDeposited", 1)
//     .split("AccountOpenedWithDeposit", 1, {{"AccountOpened", 1}, {"MoneyDeposited", 2}},
//            [](nlohmann::json p) {
//              return std::vector<interlock::upcast_event>{
//                  {"AccountOpened", 1, {{"owner_name", p["owner"]}}},
//                  {"MoneyDeposited", 2, {{"amount", p["amount"]}, {"currency", "EUR"}}}};
//            });
//   if (auto err = up.check({interlock::event_version_of<AccountOpened>(),
//                            interlock::event_version_of<MoneyDeposited>()})) ...  // refuse to start
//   if (up.needs_upcast(type, version)) auto events = up.upcast(type, version, payload_json);
//
// Register everything first, then check() once at start-up; after that the
// chain is only read (its const members may run on several threads at once,
// as long as the registered functions are themselves safe to call so).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include <interlock/core/type_name.hpp>

namespace interlock {

/// An event on its way through the chain: what upcast() returns and what a
/// split produces.
struct upcast_event {
  std::string type;
  std::uint32_t schema_version = 1;
  nlohmann::json payload;
};

/// An event type at one schema version (a split's possible outputs).
struct event_schema {
  std::string type;
  std::uint32_t version = 1;
};

/// What the code reads for one event type: its current schema version and the
/// oldest version stored data may still hold (from which a path must exist).
struct event_version_info {
  std::string type;
  std::uint32_t current = 1;
  std::uint32_t oldest = 1;
};

/// The version info of event type E (its type_name_of and schema_version_of).
template <class E>
event_version_info event_version_of(std::uint32_t oldest = 1) {
  return {std::string{type_name_of<E>()}, schema_version_of<E>(), oldest};
}

class upcaster_chain {
 public:
  /// Turns a payload into the next one (taken by value: change it in place and return it).
  using payload_fn = std::function<nlohmann::json(nlohmann::json)>;
  /// Turns one payload into several events.
  using split_fn = std::function<std::vector<upcast_event>(nlohmann::json)>;

  /// `type` at `from_version` becomes `type` at from_version + 1, payload through `fn`.
  upcaster_chain& step(std::string type, std::uint32_t from_version, payload_fn fn);

  /// step() for event type E, named by type_name_of<E>().
  template <class E>
  upcaster_chain& step(std::uint32_t from_version, payload_fn fn) {
    return step(std::string{type_name_of<E>()}, from_version, std::move(fn));
  }

  /// `old_type` at `version` is now `new_type` at `new_version`; the payload
  /// is kept, or passed through `fn` if one is given.
  upcaster_chain& rename(std::string old_type, std::uint32_t version, std::string new_type,
                         std::uint32_t new_version, payload_fn fn = {});

  /// `type` at `version` becomes the events `fn` returns, in order. `targets`
  /// declares every (type, version) it may return, so check() can follow the
  /// paths without running it; returning anything else, or nothing, fails on read.
  upcaster_chain& split(std::string type, std::uint32_t version, std::vector<event_schema> targets, split_fn fn);

  /// True when nothing is registered.
  bool empty() const noexcept { return rules_.empty(); }

  /// True when an upcaster is registered for `type` at `version`, i.e. upcast()
  /// must run before the event is decoded. After check() passed, false for
  /// every current version. Cheap: called for every event read.
  bool needs_upcast(std::string_view type, std::uint32_t version) const noexcept {
    return !rules_.empty() && find(type, version) != nullptr;
  }

  /// Parses `payload_json` and applies the chain until every resulting event
  /// is at a version with no upcaster; an event with none comes back as it is.
  /// Errors name the event, where the chain failed and why: corrupt_event for
  /// a payload that is not JSON, schema_mismatch for an upcaster that threw,
  /// a split that returned nothing or an undeclared target, a cycle.
  caf::expected<std::vector<upcast_event>> upcast(std::string_view type, std::uint32_t version,
                                                  std::string_view payload_json) const;

  /// The type names events of `type` may be stored under: `type` and every
  /// name a rename or split leads from to it, directly or not (a read by type
  /// must ask the journal for all of them).
  std::vector<std::string> stored_names_of(const std::string& type) const;

  /// upcast() for an already parsed event.
  caf::expected<std::vector<upcast_event>> upcast(upcast_event event) const;

  /// The start-up check against what the code reads (one entry per event
  /// type). Fails with invalid_argument for registration mistakes (an empty
  /// name, version 0, a missing function, two upcasters for one type and
  /// version, one at or above a type's current version, a rename or split to
  /// an unknown type, a cycle) and with schema_mismatch for a gap, e.g.
  /// "event MoneyDeposited: no upcaster from schema version 2 to 3 (current is 4)".
  /// Every declared version from `oldest` up, and every registered upcaster,
  /// must lead to current versions of known types.
  caf::error check(const std::vector<event_version_info>& current) const;

 private:
  struct rule {
    const char* kind;                    // "step", "rename", "split": for messages
    std::vector<event_schema> targets;   // where it leads (one, except for a split)
    payload_fn payload;                  // step and rename (a rename may have none)
    split_fn split;                      // split only
  };

  // Looked up with a string_view: no string is built per event read.
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using rule_map = std::unordered_map<std::string, std::map<std::uint32_t, rule>, name_hash, std::equal_to<>>;

  class checker;  // check()'s graph walk (upcaster_check.cpp)

  const rule* find(std::string_view type, std::uint32_t version) const noexcept;
  void add(std::string type, std::uint32_t version, rule r);
  caf::error run(upcast_event event, std::size_t depth, const event_schema& origin,
                 std::vector<upcast_event>& out) const;
  caf::error apply_one(const rule& r, upcast_event& event, const event_schema& origin) const;
  caf::error apply_split(const rule& r, upcast_event& event, std::size_t depth, const event_schema& origin,
                         std::vector<upcast_event>& out) const;

  rule_map rules_;
  std::size_t rule_count_ = 0;          // bounds a chain's length: a longer one has a cycle
  std::vector<std::string> mistakes_;   // registration errors, reported by check()
};

}  // namespace interlock
