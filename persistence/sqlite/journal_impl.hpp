// The SQLite journal's class, shared by the files that implement it by
// concern: sqlite_journal.cpp (opening), event_writer.cpp (appends),
// event_reader.cpp (reads), stream_heads.cpp (a stream's version), fold.cpp
// (the fold into stream_runs and log_runs), head_watch.cpp (other
// processes' appends, polled).
// Internal to the SQLite journal.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <interlock/persistence/append_chain.hpp>
#include <interlock/persistence/sqlite/statements.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

namespace interlock::sqlite {

/// A stream as the writer knows it.
struct stream_row {
  std::int64_t key = 0;  // 0: the stream does not exist yet
  std::uint64_t version = 0;
  std::uint64_t first_position = 0;
};

/// An event row of the batch being written, waiting for its INSERT.
struct pending_event {
  const append_request* request;
  const event_record* event;
  std::int64_t stream_key;
  std::uint64_t position;
  std::uint64_t version;
  std::int64_t type_key;
};

/// An append folds before it returns once this many spans are open: reads seek
/// one span per span after the folded mark, so this bounds them even when the
/// writer is never idle (maintain() folds sooner; see stream_index.cpp).
inline constexpr std::uint64_t busy_fold_spans = 32;

/// An event as the fold sees it.
struct folded_event {
  std::int64_t stream_key;
  std::uint64_t version;
  std::uint64_t position;
  std::int64_t type_key;
};

/// A row of stream_runs (key: stream, first: version) or of log_runs (key:
/// type key, first: position) being built; its positions lie in `span`.
struct index_run {
  std::int64_t key;
  std::uint64_t first;
  std::uint64_t span;
  std::string offsets;
  std::string copies;  // of a log_runs row, when the file keeps copies (event_copies.hpp)
};

/// A row of log_runs as a filtered read takes it, with its copies if any.
struct log_row {
  std::int64_t type_key;
  std::uint64_t span;
  std::string offsets, copies;  // copies: empty if it has none
};

/// What a filtered log read has done so far.
struct filtered_scan {
  std::uint64_t next;  // the lowest position still to visit
  std::size_t max_count;
  scan_fields fields;
  const event_visitor& visit;
  std::size_t visited = 0;
  bool more = true;  // false once the visitor said stop
  bool wants_more() const { return more && visited < max_count; }
};

/// A stream's newest indexed event (version 0: none).
struct indexed_event {
  std::uint64_t version = 0;
  std::uint64_t position = 0;
};

/// What one transaction of the fold reads and writes.
struct fold_batch {
  std::vector<folded_event> events;
  std::vector<index_run> stream_runs, type_runs;
  std::vector<std::pair<std::int64_t, indexed_event>> heads;  // each stream's last event folded
};

/// Where the fold stands: every event at or before `folded` is in stream_runs.
struct fold_state {
  std::uint64_t folded = 0;
  std::uint64_t last = 0;  // the last position
  /// Spans holding events after the folded mark: what a stream read seeks.
  std::uint64_t open_spans() const {
    return last <= folded ? 0 : (last >> span_shift) - ((folded + 1) >> span_shift) + 1;
  }
};

/// What a stream read has done so far.
struct stream_scan {
  std::uint64_t next_version;  // the lowest version still to visit
  std::size_t visited = 0;
  bool more = true;  // false once the visitor said stop
};

class sqlite_journal final : public journal {
 public:
  static caf::expected<std::unique_ptr<journal>> open(const sqlite_options& options);

  std::vector<caf::expected<append_result>> append(const std::vector<append_request>& batch) override;
  caf::expected<std::vector<stored_event>> read_stream(const std::string& aggregate_type,
                                                       const std::string& aggregate_id, std::uint64_t from_version,
                                                       std::size_t max_count) override;
  caf::expected<std::size_t> scan_stream(const std::string& aggregate_type, const std::string& aggregate_id,
                                         std::uint64_t from_version, std::size_t max_count, const event_visitor& visit,
                                         scan_fields fields = scan_fields::all) override;
  caf::expected<std::size_t> scan_all(std::uint64_t from_position, std::size_t max_count, const event_visitor& visit,
                                      scan_fields fields = scan_fields::all) override;
  caf::expected<std::vector<stored_event>> read_all(std::uint64_t from_position, std::size_t max_count) override;
  caf::expected<std::size_t> scan_filtered(std::uint64_t from_position, std::size_t max_count, const log_filter& filter,
                                           const event_visitor& visit, scan_fields fields = scan_fields::all) override;
  caf::expected<std::uint64_t> last_position() override;
  caf::expected<std::uint64_t> stream_version(const std::string& aggregate_type,
                                              const std::string& aggregate_id) override;
  caf::expected<std::optional<snapshot_record>> load_snapshot(const std::string& aggregate_type,
                                                              const std::string& aggregate_id,
                                                              std::uint64_t max_version,
                                                              std::int64_t max_recorded_at_us) override;
  caf::expected<std::optional<command_record>> find_command(const std::string& command_id) override;
  caf::expected<bool> maintain() override;
  caf::expected<std::unique_ptr<journal_watch>> open_watch() override;  // head_watch.cpp

  caf::expected<sqlite_settings> settings();

 private:
  explicit sqlite_journal(std::string path) : path_(std::move(path)) {}

  // -- opening (sqlite_journal.cpp) --
  caf::error open_error() const;
  caf::error connect(const sqlite_options& options);
  caf::error ensure_schema();
  caf::error check_at_open();
  caf::error start_copies(bool wanted);

  // -- appending (event_writer.cpp) --
  std::optional<std::string> write_batch(const std::vector<append_request>& batch,
                                         std::vector<caf::expected<append_result>>& results, bool isolate);
  std::optional<std::string> start_batch();
  std::optional<std::string> append_one(const append_request& req, std::uint64_t& next_position, std::int64_t now,
                                        caf::expected<append_result>& result, bool isolate);
  int write_request(const append_request& req, stream_row& stream, const append_result& landed, bool defer_events);
  void bind_event(statement& q, int first_parameter, const pending_event& row, std::int64_t now) const;
  int write_pending_events(std::int64_t now);
  int write_command(const append_request& req, const append_result& landed);
  int write_snapshot(std::int64_t stream_key, const snapshot_record& snap, std::size_t keep, std::int64_t now);
  std::optional<stream_row>& cached_stream(const std::string& aggregate_type, const std::string& aggregate_id);
  int type_key_of(const std::string& aggregate_type, const std::string& event_type, std::int64_t& out);
  std::optional<std::string> forget_cache_if_changed();
  void forget_streams();
  void rollback();

  // -- reading (event_reader.cpp) --
  int scan_runs(std::int64_t key, const fold_state& at, std::size_t max_count, scan_fields fields,
                stream_scan& scan, bool& agrees, const std::function<bool(event_view&)>& visit);
  int scan_filtered_folded(const std::string& keys, std::uint64_t last, filtered_scan& scan);
  int visit_by_position(std::span<const log_row> rows, std::uint64_t last, filtered_scan& scan);
  int visit_copies(std::span<const log_row> rows, std::uint64_t last, filtered_scan& scan, bool& copied);
  int type_names_of(std::int64_t key, const std::pair<std::string, std::string>*& out);

  // -- stream heads (stream_heads.cpp) --
  int find_stream(const std::string& aggregate_type, const std::string& aggregate_id, stream_row& out,
                  const fold_state& at);
  int stream_head(stream_row& stream, const fold_state& at);
  int indexed_head(stream_row& stream, const fold_state& at);
  int last_indexed(std::int64_t stream_key, indexed_event& out);
  int indexed_position(std::int64_t stream_key, std::uint64_t version, std::uint64_t& out);
  int read_fold_state(fold_state& out);
  std::string describe_stream(std::int64_t stream_key);

  // -- the fold (fold.cpp) --
  caf::error fold(std::uint64_t to);
  caf::error fold_some(std::uint64_t to, bool& done);
  caf::error cut_fold(std::uint64_t from, std::uint64_t until, fold_batch& batch, bool& index_ahead);
  caf::error write_fold(fold_batch& batch, std::uint64_t until);
  caf::error fold_error() const;
  caf::error fold_if_over(const fold_state& at, std::uint64_t limit);
  int scan_for_fold(std::uint64_t from, std::uint64_t to, fold_batch& batch);
  int read_copies_flag();
  caf::error cut_stream_runs(fold_batch& batch, bool& index_ahead);
  caf::error cut_runs_of_stream(const folded_event* first, const folded_event* last, indexed_event& head,
                                std::vector<index_run>& out, bool& index_ahead);
  void remember_heads(const std::vector<std::pair<std::int64_t, indexed_event>>& heads, bool rebuilt);
  int insert_runs(fold_batch& batch);
  int reindex_stream(const stream_row& stream, std::uint64_t folded);
  caf::error damaged(std::int64_t stream_key, const std::string& what);
  caf::error rebuild_stream_index(const std::string& why);

  // -- shared --
  int read_last_position(std::uint64_t& out);
  int read_folded_mark(std::uint64_t& out);
  int run(statement& stmt);
  caf::error read_error(const std::string& what) const;

  std::string path_;
  sync_mode synchronous_ = sync_mode::full;
  connection db_;  // declared before the statements: they are finalized first
  statements q_;
  // The streams this connection has written or read in a write transaction.
  // Valid while no other connection commits (PRAGMA data_version tells), so
  // appends skip a lookup per request; cleared whenever a transaction fails.
  std::unordered_map<std::string, std::optional<stream_row>> streams_;
  // The last position and the folded mark this connection committed or read in
  // a write transaction, valid on the same terms.
  std::optional<std::uint64_t> last_written_;
  std::optional<std::uint64_t> folded_;
  detail::append_chain chain_;          // what the batches so far left of after_previous chains
  std::vector<pending_event> pending_;  // the batch's events not yet inserted (fast path)
  std::int64_t seen_data_version_ = -1;
  // type_keys as this connection knows it ("aggregate type\x1fevent type" ->
  // key), and the pair looked up last (most events are of the pair before).
  // Cleared with a rolled-back transaction, which may have added a pair.
  std::unordered_map<std::string, std::int64_t> type_keys_;
  // The other way round, for reads of log_copies (a pair's key never changes).
  std::unordered_map<std::int64_t, std::pair<std::string, std::string>> type_names_;
  // Whether the fold writes log_copies (journal_meta.category_copies).
  bool copies_ = false;
  struct {
    std::string aggregate_type, event_type;
    std::int64_t key = 0;
  } last_pair_;
  // stream_runs' newest event of the streams this connection folded (fold.cpp).
  std::unordered_map<std::int64_t, indexed_event> indexed_heads_;
  // The folded mark at which a fold met a duplicate: not tried again from there.
  std::optional<std::uint64_t> fold_blocked_at_;
  // Streams a fold found a version stored twice in, and what it found: their
  // reads fail with it (a read by version would pass over the second copy).
  std::unordered_map<std::int64_t, std::string> damaged_streams_;
};

}  // namespace interlock::sqlite
