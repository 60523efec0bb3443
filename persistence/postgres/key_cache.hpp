// The integer keys a PostgreSQL journal's streams and (aggregate type, event
// type) pairs have in its tables (schema.cpp), as this connection's batches
// read or wrote them. A key is handed out once, under the counter row's
// lock, and never changes: what a committed batch saw stays true whatever
// other connections append since. A failed batch adds nothing. Bounded: past
// max_keys it starts again empty. Internal to the PostgreSQL journal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace interlock::postgres {

/// "name\0name" -> key: a stream's ("type\0id") or an event type's ("aggregate type\0event type").
using key_map = std::unordered_map<std::string, std::int64_t>;

class key_cache {
 public:
  /// The key of a stream, or nullptr if this cache does not hold it.
  const std::int64_t* stream(const std::string& names) const { return find(streams_, names); }
  /// The key of an (aggregate type, event type) pair, or nullptr.
  const std::int64_t* type(const std::string& names) const { return find(types_, names); }

  /// The keys a committed batch read or handed out.
  void keep(const key_map& streams, const key_map& types) {
    add(streams_, streams);
    add(types_, types);
  }

 private:
  // Bounds the memory of a writer to many streams (about 100 bytes a key).
  static constexpr std::size_t max_keys = 100'000;

  static const std::int64_t* find(const key_map& map, const std::string& names) {
    auto it = map.find(names);
    return it == map.end() ? nullptr : &it->second;
  }
  static void add(key_map& into, const key_map& keys) {
    if (into.size() + keys.size() > max_keys) into.clear();
    into.insert(keys.begin(), keys.end());
  }

  key_map streams_, types_;
};

}  // namespace interlock::postgres
