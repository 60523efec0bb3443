// The versions of the streams a projection's catch-up reads, checked as it
// reads them. The journal keeps each stream's versions gapless and unique
// (1, 2, 3, ...), so an event that is not its stream's previous version + 1
// is damage (a lost or doubled row), and a projection must stop before it,
// as it stops at a hole in the global positions. Internal.
//
// Contract:
//  - check(e) is called for each event read, in global order; true: `e`
//    continues its stream as far as the tracker knows (and is recorded).
//    false: it does not, and error(e) is the errc::corrupt_event naming the
//    stream ("Type/id"), the version and the position; `e` must not be applied.
//  - A stream is checked from the second of its events the tracker sees,
//    unless the first event it saw at all is at global position 1 (the scan
//    reads the whole journal): then no event of any stream came before, and a
//    stream's first event must be version 1. (Looking a stream's version up
//    as of the scan's start would cost a read per stream.)
//  - Memory is bounded: at most `max_streams` streams are tracked (65,536 by
//    default, some 100 bytes each with a ULID id: about 6.5 MB at most). They
//    are counted in generations of max_streams / 2 streams seen; when one is
//    full, the streams not seen during it are forgotten. So a stream stays
//    tracked while it recurs within about max_streams / 2 other streams; one
//    forgotten is checked again from its next event but one, and once any is
//    forgotten first events are no longer required to be version 1 (a new
//    stream may be a forgotten one).
//  - Cheap: the next event of the same stream (the common case: streams are
//    appended in runs) costs two comparisons, another stream one hash lookup
//    (about 25 ns among 1,000 interleaved streams, 35 ns among 10,000 on the
//    bench machine). Past the cap, when most streams are new to it, an event
//    costs about 250 ns (cache misses: a lookup, an insert, a forgotten node).
// One tracker per catch-up; it is not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/stored_event.hpp>

namespace interlock::detail {

class stream_continuity {
 public:
  static constexpr std::size_t default_max_streams = 65536;

  explicit stream_continuity(std::size_t max_streams = default_max_streams)
      : generation_size_(std::max<std::size_t>(1, max_streams / 2)) {}

  bool check(const event_view& e) {
    if (last_ != nullptr && e.aggregate_id == last_->first.id && e.aggregate_type == last_->first.type)
      return advance(*last_, e);
    return check_other_stream(e);
  }

  /// The error for an event check() refused (the last one it was given).
  caf::error error(const event_view& e) const { return version_break(e, expected_); }

  std::size_t tracked() const { return streams_.size(); }

 private:
  // Keys carry their hash: computed once per lookup, never again when the
  // table grows, and compared before the strings (each a cache miss away).
  struct key {
    std::string type, id;
    std::size_t hash;
  };
  struct key_view {
    std::string_view type, id;
    std::size_t hash;
  };
  struct key_hash {
    using is_transparent = void;
    template <class K>
    std::size_t operator()(const K& k) const {
      return k.hash;
    }
  };
  struct key_equal {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return a.hash == b.hash && std::string_view{a.id} == std::string_view{b.id} &&
             std::string_view{a.type} == std::string_view{b.type};
    }
  };
  struct seen {
    std::uint64_t version;     // the last version seen
    std::uint64_t generation;  // the last generation it was seen in
  };
  using map = std::unordered_map<key, seen, key_hash, key_equal>;

  bool advance(map::value_type& stream, const event_view& e) {
    if (e.version != stream.second.version + 1) {
      expected_ = stream.second.version + 1;
      return false;
    }
    stream.second.version = e.version;
    return true;
  }

  bool check_other_stream(const event_view& e) {
    if (!started_) {
      started_ = true;
      whole_journal_ = e.position == 1;
    }
    const key_view k{e.aggregate_type, e.aggregate_id,
                     std::hash<std::string_view>{}(e.aggregate_id) * 31 + std::hash<std::string_view>{}(e.aggregate_type)};
    if (auto it = streams_.find(k); it != streams_.end()) {
      last_ = &*it;
      if (it->second.generation != generation_) {
        it->second.generation = generation_;
        count_young();
      }
      return advance(*it, e);
    }
    if (whole_journal_ && e.version != 1) {
      expected_ = 1;
      return false;
    }
    last_ = &*streams_.emplace(key{std::string{k.type}, std::string{k.id}, k.hash}, seen{e.version, generation_}).first;
    count_young();
    return true;
  }

  // Once a generation is full, the streams not seen in it are forgotten (at
  // most one generation's worth remains) and a new one starts.
  void count_young() {
    if (++young_ < generation_size_) return;
    const auto before = streams_.size();
    std::erase_if(streams_, [&](const map::value_type& s) { return s.second.generation != generation_; });
    whole_journal_ = whole_journal_ && streams_.size() == before;
    ++generation_;
    young_ = 0;
  }

  std::size_t generation_size_;
  map streams_;
  std::uint64_t generation_ = 0;
  std::size_t young_ = 0;            // streams seen in this generation
  map::value_type* last_ = nullptr;  // the stream of the last event (nodes stay put when the map grows)
  bool started_ = false;
  bool whole_journal_ = false;  // the first event was at position 1, and no stream was forgotten since
  std::uint64_t expected_ = 0;  // for error(): the version check() expected
};

}  // namespace interlock::detail
