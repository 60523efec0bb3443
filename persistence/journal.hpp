// The journal: an append-only event log with one stream per aggregate.
//
// Contract shared by every implementation (and checked by
// tests/journal_conformance_test.cpp against each of them):
//  - append() commits a batch of requests in one transaction. Each request is
//    all-or-nothing: it commits iff its stream is at `expected_version` when it
//    is reached in the batch; a failed request does not fail the others.
//  - Stream versions are 1-based and gapless; (aggregate_type, aggregate_id,
//    version) is unique. Global positions are 1-based and gapless, assigned in
//    commit order inside the transaction.
//  - Reads see only committed events, in version (stream) or position (all) order.
//  - What is stored as text is valid UTF-8 without a NUL byte, so any SQLite
//    client reads it and PostgreSQL's text holds it: a request whose ids,
//    types, JSON or refusal message are not (or whose stream name or ids are
//    not identifiers: core/detail/utf8.hpp), or whose schema or state version
//    is above INT32_MAX, fails with errc::invalid_argument naming the field
//    (and the event's version and type); so does a read of such a stream.
//  - A request the store itself refuses (a constraint or a value it cannot
//    take) fails alone, with errc::storage; a storage failure of any other
//    kind fails every request of the batch.
// A journal object is used by one thread at a time; open several for
// concurrent readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include <interlock/core/event_envelope.hpp>

namespace interlock {

class journal_watch;  // persistence/journal_watch.hpp

/// An event as emitted by an aggregate, already encoded.
struct event_record {
  std::string type;
  std::uint32_t schema_version = 1;
  std::string payload;  // JSON text
};

/// An aggregate's state as of one stream version, encoded as JSON. Loading an
/// aggregate = its latest usable snapshot + the events after it.
struct snapshot_record {
  std::uint64_t version = 0;         // the stream version the state includes
  std::uint32_t state_version = 1;   // schema version of the encoded state
  std::string state;                 // JSON text
  std::int64_t recorded_at_us = 0;   // set by the journal when it stores it
};

/// Append `events` to one stream if it is at `expected_version` (0: new stream).
struct append_request {
  std::string aggregate_type;
  std::string aggregate_id;
  std::uint64_t expected_version = 0;
  std::vector<event_record> events;
  std::string command_id;
  std::string correlation_id;
  std::string causation_id;
  /// Stored in the same transaction as the events when set: the state after
  /// them (its version must be expected_version + events.size()). The stream
  /// then keeps its `keep_snapshots` newest snapshots.
  std::optional<snapshot_record> snapshot{};
  std::size_t keep_snapshots = 2;
  /// Record command_id with the events (same transaction), so a retry of the
  /// command finds its outcome instead of running again (find_command()).
  /// A command id recorded before makes the request fail with errc::conflict.
  /// A recorded command may have no events: one that changed nothing, or one
  /// its handler refused (`refusal`); the stream must still be at
  /// expected_version, so the outcome rests on the state it was decided on.
  bool record_command = false;
  std::string result_json{};  // the command's result, encoded, for that retry
  std::string command_type{};  // recorded with it: a key reused for another type is refused
  caf::error refusal{};        // an interlock error (errc + message): the outcome a retry gets
  /// Append only if the last request of this stream that this journal was
  /// given (in this batch or an earlier one) was appended; else fail with
  /// errc::conflict. For a chain of requests whose events each rest on the
  /// ones before (an aggregate's commands run back to back, its next batch
  /// sent before the last is answered): a stream then takes a prefix of the
  /// chain, never a later link without an earlier.
  bool after_previous = false;
};

/// What find_command() knows of a recorded command: where its events landed
/// and its result.
struct command_record {
  std::string aggregate_type;
  std::string aggregate_id;
  std::uint64_t first_position = 0;  // 0 (and last_position 0): it stored no events
  std::uint64_t last_position = 0;
  std::uint64_t last_version = 0;    // the stream's version after it
  std::string result_json;
  std::string command_type;          // "" when recorded by a journal format that did not keep it
  caf::error refusal;                // set when the command was refused: its error
};

/// Where a committed request landed.
struct append_result {
  std::uint64_t first_position = 0;  // 0 (and last_position 0): a recorded command that stored no events
  std::uint64_t last_position = 0;
  std::uint64_t last_version = 0;
  std::int64_t recorded_at_us = 0;
};

/// A committed event: its envelope plus the JSON payload as stored.
struct stored_event : event_envelope {
  std::string payload;
};

/// A stored event seen in place during a scan: the views point into the
/// journal's own memory and are valid only during the visit. Scans read a
/// journal without copying each event into a stored_event (recovery and
/// catch-up of millions of events).
struct event_view {
  std::uint64_t position = 0;
  std::string_view aggregate_type;
  std::string_view aggregate_id;
  std::uint64_t version = 0;
  std::string_view event_type;
  std::uint32_t schema_version = 1;
  std::string_view payload;
  std::int64_t recorded_at_us = 0;
  std::string_view command_id;
  std::string_view correlation_id;
  std::string_view causation_id;
};

/// Called once per event, in order; returning false stops the scan.
using event_visitor = std::function<bool(const event_view&)>;

/// What a scan's visitor reads of each event. Loading an aggregate needs no
/// command, correlation or causation ids, and not reading them is measurably
/// cheaper; with `without_ids` a journal may leave them empty.
enum class scan_fields { all, without_ids };

/// Which events a filtered log read visits: those of one of `aggregate_types`
/// and of one of `event_types`. An empty list lets every value through.
struct log_filter {
  std::vector<std::string> aggregate_types;
  std::vector<std::string> event_types;
  bool empty() const { return aggregate_types.empty() && event_types.empty(); }
  bool matches(std::string_view aggregate_type, std::string_view event_type) const;
};

/// A view of a stored event (valid while `e` lives), and a copy of a view.
event_view view_of(const stored_event& e);
stored_event to_stored(const event_view& v);

/// The events `req` became once committed as `res` (for publishing).
std::vector<stored_event> committed_events(const append_request& req, const append_result& res);

/// The events a batch became, in global order: those of each request that
/// committed (`results`, one per request, as journal::append returns them).
std::vector<stored_event> committed_events(const std::vector<append_request>& requests,
                                           const std::vector<caf::expected<append_result>>& results);

class journal {
 public:
  virtual ~journal() = default;

  /// Commits `batch` in one transaction; one result per request, in order.
  /// A storage failure fails every request of the batch.
  virtual std::vector<caf::expected<append_result>> append(const std::vector<append_request>& batch) = 0;

  /// Up to `max_count` events of one stream with version >= from_version.
  virtual caf::expected<std::vector<stored_event>> read_stream(const std::string& aggregate_type,
                                                               const std::string& aggregate_id,
                                                               std::uint64_t from_version,
                                                               std::size_t max_count) = 0;

  /// Up to `max_count` events with position >= from_position, in position order.
  virtual caf::expected<std::vector<stored_event>> read_all(std::uint64_t from_position,
                                                            std::size_t max_count) = 0;

  /// Visits what read_stream() would return; the number of events visited.
  /// The default implementation reads through read_stream().
  virtual caf::expected<std::size_t> scan_stream(const std::string& aggregate_type, const std::string& aggregate_id,
                                                 std::uint64_t from_version, std::size_t max_count,
                                                 const event_visitor& visit, scan_fields fields = scan_fields::all);

  /// Visits what read_all() would return; the number of events visited.
  virtual caf::expected<std::size_t> scan_all(std::uint64_t from_position, std::size_t max_count,
                                              const event_visitor& visit, scan_fields fields = scan_fields::all);

  /// Visits, in position order from `from_position`, up to `max_count` events
  /// that pass `filter`; the number visited. The SQLite journal reads older
  /// events through an index of their types; the default implementation
  /// scans the log through scan_all() and skips the others.
  virtual caf::expected<std::size_t> scan_filtered(std::uint64_t from_position, std::size_t max_count,
                                                   const log_filter& filter, const event_visitor& visit,
                                                   scan_fields fields = scan_fields::all);

  /// The highest committed global position (0 when empty).
  virtual caf::expected<std::uint64_t> last_position() = 0;

  /// The newest snapshot of a stream with version <= max_version and recorded
  /// at or before max_recorded_at_us; nullopt if there is none.
  virtual caf::expected<std::optional<snapshot_record>> load_snapshot(const std::string& aggregate_type,
                                                                      const std::string& aggregate_id,
                                                                      std::uint64_t max_version,
                                                                      std::int64_t max_recorded_at_us) = 0;

  /// The command recorded under `command_id` (append_request::record_command),
  /// or nullopt.
  virtual caf::expected<std::optional<command_record>> find_command(const std::string& command_id) = 0;

  /// The current version of a stream (0 when it does not exist).
  virtual caf::expected<std::uint64_t> stream_version(const std::string& aggregate_type,
                                                      const std::string& aggregate_id) = 0;

  /// One bounded step of the upkeep that appends leave for later (the SQLite
  /// journal folds older events into its stream index); the journal writer
  /// calls it when it has nothing to commit. True if more is due. An error
  /// leaves the journal usable. The default has nothing to do.
  virtual caf::expected<bool> maintain() { return false; }

  /// A watch on the same journal through a connection of its own
  /// (persistence/journal_watch.hpp), which tells of appends made by other
  /// processes; nullptr when no other process can append to it (the default:
  /// a journal in memory). errc::storage if the connection cannot be opened.
  virtual caf::expected<std::unique_ptr<journal_watch>> open_watch();
};

/// Opens a journal connection; called once for the writer and once per reader.
using journal_factory = std::function<caf::expected<std::unique_ptr<journal>>()>;

}  // namespace interlock
