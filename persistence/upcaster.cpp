// Registering upcasters and applying them on read. The start-up check is in
// upcaster_check.cpp.
#include <interlock/persistence/upcaster.hpp>

#include <algorithm>
#include <exception>
#include <optional>

#include <interlock/core/errors.hpp>

namespace interlock {
namespace {

std::string schema_name(std::string_view type, std::uint32_t version) {
  return std::string{type} + " schema version " + std::to_string(version);
}

// Why a rule cannot be registered ("" if it can); duplicates are found by add().
std::string mistake_in(const std::string& type, std::uint32_t version, const std::string& name, bool has_fn,
                       const std::vector<event_schema>& targets) {
  if (type.empty()) return "an upcaster has an empty event type";
  if (version == 0) return name + ": schema versions start at 1";
  if (!has_fn) return name + " has no function";
  if (targets.empty()) return name + " declares no target";
  for (const auto& t : targets)
    if (t.type.empty() || t.version == 0) return name + " has a target with an empty type or version 0";
  return {};
}

// The text of whatever `f` threw, or nullopt: a user's upcaster must not
// take the reader down, its failure becomes an error naming the event.
template <class F>
std::optional<std::string> exception_from(F&& f) {
  try {
    f();
    return std::nullopt;
  } catch (const std::exception& ex) {
    return std::string{ex.what()};
  } catch (...) {
    return std::string{"an exception that is not a std::exception"};
  }
}

// "upcasting FundsAdded schema version 1, at MoneyDeposited schema version 2: step threw: ..."
caf::error failure(const event_schema& origin, const upcast_event& at, const std::string& what) {
  auto msg = "upcasting " + schema_name(origin.type, origin.version);
  if (at.type != origin.type || at.schema_version != origin.version)
    msg += ", at " + schema_name(at.type, at.schema_version);
  return make_error(errc::schema_mismatch, msg + ": " + what);
}

bool declares(const std::vector<event_schema>& targets, const upcast_event& e) {
  return std::any_of(targets.begin(), targets.end(),
                     [&](const event_schema& t) { return t.type == e.type && t.version == e.schema_version; });
}

}  // namespace

// --- registration ------------------------------------------------------------

upcaster_chain& upcaster_chain::step(std::string type, std::uint32_t from_version, payload_fn fn) {
  // from_version + 1 wraps to 0 at the maximum, which mistake_in() reports.
  std::vector<event_schema> next{{type, from_version + 1}};
  add(std::move(type), from_version, rule{"step", std::move(next), std::move(fn), {}});
  return *this;
}

upcaster_chain& upcaster_chain::rename(std::string old_type, std::uint32_t version, std::string new_type,
                                       std::uint32_t new_version, payload_fn fn) {
  std::vector<event_schema> next{{std::move(new_type), new_version}};
  add(std::move(old_type), version, rule{"rename", std::move(next), std::move(fn), {}});
  return *this;
}

upcaster_chain& upcaster_chain::split(std::string type, std::uint32_t version, std::vector<event_schema> targets,
                                      split_fn fn) {
  add(std::move(type), version, rule{"split", std::move(targets), {}, std::move(fn)});
  return *this;
}

// Registration cannot fail where it is written (the calls chain), so mistakes
// are kept and check() reports them all at start-up.
void upcaster_chain::add(std::string type, std::uint32_t version, rule r) {
  const auto subject = schema_name(type, version);
  const auto name = std::string{r.kind} + " of " + subject;
  const bool has_fn = r.split || r.payload || std::string_view{r.kind} == "rename";  // a rename's is optional
  if (auto mistake = mistake_in(type, version, name, has_fn, r.targets); !mistake.empty()) {
    mistakes_.push_back(std::move(mistake));
    return;
  }
  auto& by_version = rules_[std::move(type)];
  if (auto it = by_version.find(version); it != by_version.end()) {
    mistakes_.push_back("two upcasters for " + subject + " (" + it->second.kind + " and " + r.kind + ")");
    return;
  }
  by_version.emplace(version, std::move(r));
  ++rule_count_;
}

const upcaster_chain::rule* upcaster_chain::find(std::string_view type, std::uint32_t version) const noexcept {
  auto by_type = rules_.find(type);
  if (by_type == rules_.end()) return nullptr;
  auto it = by_type->second.find(version);
  return it == by_type->second.end() ? nullptr : &it->second;
}

// --- applying ----------------------------------------------------------------

caf::expected<std::vector<upcast_event>> upcaster_chain::upcast(std::string_view type, std::uint32_t version,
                                                                std::string_view payload_json) const {
  auto payload = nlohmann::json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded())
    return make_error(errc::corrupt_event, "upcasting " + schema_name(type, version) + ": the payload is not JSON");
  return upcast(upcast_event{std::string{type}, version, std::move(payload)});
}

caf::expected<std::vector<upcast_event>> upcaster_chain::upcast(upcast_event event) const {
  const event_schema origin{event.type, event.schema_version};
  std::vector<upcast_event> out;
  if (auto err = run(std::move(event), 0, origin, out)) return err;
  return out;
}

// Follows single-target rules in place; a split recurses into each event it makes.
caf::error upcaster_chain::run(upcast_event event, std::size_t depth, const event_schema& origin,
                               std::vector<upcast_event>& out) const {
  while (const rule* r = find(event.type, event.schema_version)) {
    // Without a cycle a chain uses each rule at most once; check() finds
    // cycles at start-up, this keeps an unchecked chain from looping forever.
    if (++depth > rule_count_) return failure(origin, event, "the upcasters form a cycle");
    if (r->split) return apply_split(*r, event, depth, origin, out);
    if (auto err = apply_one(*r, event, origin)) return err;
  }
  out.push_back(std::move(event));
  return {};
}

caf::error upcaster_chain::apply_one(const rule& r, upcast_event& event, const event_schema& origin) const {
  if (r.payload) {
    auto thrown = exception_from([&] { event.payload = r.payload(std::move(event.payload)); });
    if (thrown) return failure(origin, event, std::string{r.kind} + " threw: " + *thrown);
  }
  event.type = r.targets.front().type;
  event.schema_version = r.targets.front().version;
  return {};
}

caf::error upcaster_chain::apply_split(const rule& r, upcast_event& event, std::size_t depth,
                                       const event_schema& origin, std::vector<upcast_event>& out) const {
  std::vector<upcast_event> parts;
  if (auto thrown = exception_from([&] { parts = r.split(std::move(event.payload)); }))
    return failure(origin, event, "split threw: " + *thrown);
  if (parts.empty()) return failure(origin, event, "split returned no events");
  for (auto& part : parts) {
    // check() trusted the declared targets; an undeclared one would bypass it.
    if (!declares(r.targets, part))
      return failure(origin, event,
                     "split returned " + schema_name(part.type, part.schema_version) + ", not a declared target");
    if (auto err = run(std::move(part), depth, origin, out)) return err;
  }
  return {};
}

std::vector<std::string> upcaster_chain::stored_names_of(const std::string& type) const {
  std::vector<std::string> names{type};
  for (std::size_t i = 0; i < names.size(); ++i)  // breadth first over the rules that lead to a name found
    for (auto& [from, versions] : rules_)
      for (auto& [version, r] : versions)
        for (auto& target : r.targets)
          if (target.type == names[i] && std::find(names.begin(), names.end(), from) == names.end())
            names.push_back(from);
  return names;
}

}  // namespace interlock
