// The packed copies of log_copies (schema.cpp): a log_runs row's events, in
// position order, each as its 2-byte offset in the span (as in `offsets`),
// then varints (version, schema version, time zigzagged) and length-prefixed
// strings (aggregate id, payload, command, correlation and causation ids).
// The aggregate and event type are the row's type key's. Internal to the
// SQLite journal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <interlock/persistence/journal.hpp>

namespace interlock::sqlite {

/// Appends `e` to `copies`. `e.position` must lie in the row's span; its type
/// names are not stored.
void append_copy(std::string& copies, const event_view& e);

/// Reads the copies of one log_runs row of span `span` back, checking them
/// against the row's `offsets`: a copy that lists other positions (left by a
/// build that did not keep copies in step) reads as not valid.
class copy_reader {
 public:
  copy_reader(std::string_view copies, std::string_view offsets, std::uint64_t span)
      : in_(copies), offsets_(offsets), span_(span) {}

  /// The next event into `out` (its type names left as they were); false at
  /// the end or at a copy that does not match, which valid() then tells.
  bool next(event_view& out);

  /// True once every event was read and the copies held exactly the row's positions.
  bool valid() const { return !broken_ && in_.empty() && read_ * 2 == offsets_.size(); }

 private:
  bool varint(std::uint64_t& out);
  bool text(std::string_view& out);

  std::string_view in_, offsets_;
  std::uint64_t span_;
  std::size_t read_ = 0;
  bool broken_ = false;
};

}  // namespace interlock::sqlite
