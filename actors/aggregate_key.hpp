// An aggregate instance's identity, (aggregate type, id), as a hash map key.
// Lookups may use aggregate_key_view (two string references), so finding a
// command's aggregate copies no strings. Internal.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace interlock::detail {

struct aggregate_key {
  std::string type, id;
  std::string name() const { return type + "/" + id; }  // as streams are named in messages
};

struct aggregate_key_view {
  const std::string& type;
  const std::string& id;
};

struct aggregate_key_hash {
  using is_transparent = void;
  std::size_t operator()(const aggregate_key_view& k) const {
    return std::hash<std::string>{}(k.id) * 31 + std::hash<std::string>{}(k.type);
  }
  std::size_t operator()(const aggregate_key& k) const { return (*this)(aggregate_key_view{k.type, k.id}); }
};

struct aggregate_key_equal {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return a.id == b.id && a.type == b.type;
  }
};

}  // namespace interlock::detail
