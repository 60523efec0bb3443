// The names behind the integer keys of a PostgreSQL journal's streams and
// event types (schema.cpp), as this connection's log reads fetched them: a
// log read returns keys, and only the keys it has not seen cost a lookup.
// Keys never change (key_cache.hpp), so what it holds stays true. Bounded:
// make_room() empties it past max_keys, between pages only, since the
// event_views of a page point into it. Internal to the PostgreSQL journal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

namespace interlock::postgres {

class name_cache {
 public:
  /// (aggregate type, aggregate id) or (aggregate type, event type).
  using names = std::pair<std::string, std::string>;

  /// The names of a stream key or type key, or nullptr if not held.
  const names* stream(std::int64_t key) const { return find(streams_, key); }
  const names* type(std::int64_t key) const { return find(types_, key); }

  void add_stream(std::int64_t key, names n) { streams_.insert_or_assign(key, std::move(n)); }
  void add_type(std::int64_t key, names n) { types_.insert_or_assign(key, std::move(n)); }

  /// Before a page's misses are added: empties the cache if `more` would
  /// take it past its bound; true if it did (every key is a miss again).
  bool make_room(std::size_t more) {
    if (streams_.size() + types_.size() + more <= max_keys) return false;
    streams_.clear();
    types_.clear();
    return true;
  }

 private:
  static constexpr std::size_t max_keys = 100'000;  // about 100 bytes a key

  static const names* find(const std::unordered_map<std::int64_t, names>& map, std::int64_t key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  }

  std::unordered_map<std::int64_t, names> streams_, types_;
};

}  // namespace interlock::postgres
