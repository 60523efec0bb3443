// A run of scanned events copied into one buffer, so they can outlive the
// scan that read them (a scan's event_views point into SQLite's row). One
// allocation per chunk rather than a stored_event's six strings per event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <interlock/persistence/journal.hpp>

namespace interlock {

class event_chunk {
 public:
  /// Copies all of `v`.
  void add(const event_view& v);

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }

  /// Event `i`, in the order added; valid while the chunk is neither
  /// changed nor destroyed.
  event_view view(std::size_t i) const;

 private:
  struct text {
    std::size_t offset = 0, size = 0;
  };
  struct row {
    std::uint64_t position = 0;
    std::uint64_t version = 0;
    std::int64_t recorded_at_us = 0;
    std::uint32_t schema_version = 1;
    text aggregate_type, aggregate_id, event_type, payload, command_id, correlation_id, causation_id;
  };

  text keep(std::string_view s);
  std::string_view text_of(text t) const { return std::string_view{bytes_}.substr(t.offset, t.size); }

  std::string bytes_;
  std::vector<row> rows_;
};

}  // namespace interlock
