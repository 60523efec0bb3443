// upcaster_chain::check(): the start-up proof that every event the journal may
// hold reads as a current event. The upcasters form a graph on (type, version)
// nodes; a depth-first walk from every declared old version and every
// registered upcaster must end at current versions of known types, without
// cycles. Run once at start-up, so clarity beats speed here.
#include <interlock/persistence/upcaster.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include <interlock/core/errors.hpp>

namespace interlock {
namespace {

std::string schema_name(const event_schema& s) {
  return s.type + " schema version " + std::to_string(s.version);
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

caf::error invalid(std::string message) { return make_error(errc::invalid_argument, std::move(message)); }

}  // namespace

class upcaster_chain::checker {
 public:
  checker(const upcaster_chain& chain, const std::vector<event_version_info>& current)
      : chain_(chain), current_(current) {}

  caf::error run() {
    if (!chain_.mistakes_.empty()) return invalid("upcaster registration: " + join(chain_.mistakes_, "; "));
    if (auto err = index_current()) return err;
    const auto keys = rule_keys();
    if (auto err = no_rule_at_current(keys)) return err;
    for (const auto& info : current_)
      for (auto v = info.oldest; v < info.current; ++v)
        if (auto err = walk({info.type, v})) return err;
    // Also types no longer read (renamed or split away) and versions below `oldest`.
    for (const auto& start : keys)
      if (auto err = walk(start)) return err;
    return {};
  }

 private:
  // Sorted, so that the same mistake gives the same message on every run.
  std::vector<event_schema> rule_keys() const {
    std::vector<event_schema> keys;
    for (const auto& [type, by_version] : chain_.rules_)
      for (const auto& entry : by_version) keys.push_back({type, entry.first});
    std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
      return std::tie(a.type, a.version) < std::tie(b.type, b.version);
    });
    return keys;
  }

  caf::error index_current() {
    for (const auto& info : current_) {
      if (info.type.empty() || info.current == 0 || info.oldest == 0)
        return invalid("event '" + info.type + "': empty name or schema version 0");
      if (info.oldest > info.current)
        return invalid("event " + info.type + ": oldest schema version " + std::to_string(info.oldest) +
                       " is above the current " + std::to_string(info.current));
      if (!known_.emplace(info.type, &info).second) return invalid("event " + info.type + " is listed twice");
    }
    return {};
  }

  // An upcaster at a current version would change events the code writes today.
  caf::error no_rule_at_current(const std::vector<event_schema>& keys) const {
    for (const auto& key : keys) {
      auto it = known_.find(key.type);
      if (it == known_.end() || key.version < it->second->current) continue;
      return invalid(std::string{chain_.find(key.type, key.version)->kind} + " of " + schema_name(key) +
                     ": the current version of " + key.type + " is " + std::to_string(it->second->current) +
                     ", upcasters are for older ones");
    }
    return {};
  }

  caf::error walk(const event_schema& node) {
    if (done_.contains({node.type, node.version})) return {};
    const rule* r = chain_.find(node.type, node.version);
    if (!r) return at_end(node);
    if (auto err = no_cycle(node)) return err;
    path_.push_back(node);
    for (const auto& target : r->targets)
      if (auto err = walk(target)) return err;
    path_.pop_back();
    done_.insert({node.type, node.version});
    return {};
  }

  caf::error no_cycle(const event_schema& node) const {
    auto it = std::find_if(path_.begin(), path_.end(),
                           [&](const event_schema& p) { return p.type == node.type && p.version == node.version; });
    if (it == path_.end()) return {};
    std::string text;
    for (; it != path_.end(); ++it) text += schema_name(*it) + " -> ";
    return invalid("the upcasters form a cycle: " + text + schema_name(node));
  }

  // A node without an upcaster: it must be the current version of a known type.
  caf::error at_end(const event_schema& node) const {
    auto it = known_.find(node.type);
    if (it == known_.end()) return invalid(led_by() + " leads to " + node.type + ", not an event type the code reads");
    const auto current = it->second->current;
    if (node.version > current)
      return invalid(led_by() + " leads to " + schema_name(node) + ", above its current version " +
                     std::to_string(current));
    if (node.version < current)
      return make_error(errc::schema_mismatch, "event " + node.type + ": no upcaster from schema version " +
                                                   std::to_string(node.version) + " to " +
                                                   std::to_string(node.version + 1) + " (current is " +
                                                   std::to_string(current) + ")" + reached_from(node));
    return {};
  }

  // "rename of FundsAdded schema version 1": the upcaster that led to the node being checked.
  std::string led_by() const {
    const auto& from = path_.back();  // at_end() of an unknown or newer node is never a walk's start
    return std::string{chain_.find(from.type, from.version)->kind} + " of " + schema_name(from);
  }

  // Where a gap in another type's chain was reached from, if not obvious.
  std::string reached_from(const event_schema& node) const {
    if (path_.empty() || path_.front().type == node.type) return {};
    return "; reached from " + schema_name(path_.front());
  }

  const upcaster_chain& chain_;
  const std::vector<event_version_info>& current_;
  std::map<std::string, const event_version_info*, std::less<>> known_;
  std::set<std::pair<std::string, std::uint32_t>> done_;  // nodes whose every path is fine
  std::vector<event_schema> path_;                        // the walk from its start to the node
};

caf::error upcaster_chain::check(const std::vector<event_version_info>& current) const {
  return checker{*this, current}.run();
}

}  // namespace interlock
