// The stream versions a PostgreSQL journal's own batches read and left,
// kept between batches so that the next batch need not read them again.
// They hold only while the counter row does: the cache is valid at the
// position it was taken at, and a batch that finds the counter anywhere else
// under its lock (another connection appended since) reads them again.
// A batch that failed may have changed anything: the cache is then dropped.
// Internal to the PostgreSQL journal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace interlock::postgres {

class version_cache {
 public:
  /// The version held for a stream ("type\0id"), or nullptr.
  const std::uint64_t* find(const std::string& key) const {
    auto it = versions_.find(key);
    return it == versions_.end() ? nullptr : &it->second;
  }
  /// The counter's value when it was taken, if it holds anything.
  std::optional<std::uint64_t> head() const {
    if (head_ == unknown) return std::nullopt;
    return head_;
  }
  /// Whether what it holds is what the log says with the counter at `head`.
  bool valid_at(std::uint64_t head) const { return head == head_; }
  /// The versions a batch read under the lock or committed, the counter
  /// then at `head`: kept beside the others if nothing moved the counter
  /// but this batch, else instead of them.
  void keep(std::uint64_t head, const std::unordered_map<std::string, std::uint64_t>& versions) {
    if (versions_.size() + versions.size() > max_streams) versions_.clear();
    for (const auto& [key, version] : versions) versions_[key] = version;
    head_ = head;
  }
  void forget() {
    versions_.clear();
    head_ = unknown;
  }
  bool empty() const { return versions_.empty(); }

 private:
  // Bounds the memory of a writer to many streams (about 100 bytes a stream).
  static constexpr std::size_t max_streams = 100'000;
  static constexpr std::uint64_t unknown = UINT64_MAX;
  std::uint64_t head_ = unknown;
  std::unordered_map<std::string, std::uint64_t> versions_;
};

}  // namespace interlock::postgres
