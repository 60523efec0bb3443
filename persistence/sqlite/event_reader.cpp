// The SQLite journal's reads: a stream from stream_runs and then the spans
// after the folded mark; the log in position order; snapshots and commands.
#include <interlock/persistence/sqlite/journal_impl.hpp>

#include <algorithm>
#include <span>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal_detail.hpp>
#include <interlock/persistence/sqlite/event_copies.hpp>
#include <interlock/persistence/sqlite/runs.hpp>
#include <interlock/persistence/sqlite/sql_values.hpp>

namespace interlock::sqlite {
namespace {

// The event columns of every read (see statements.cpp) as views (no copies).
// A lean read leaves the ids empty: two SQLite calls per NULL column saved per row.
event_view row_view(const statement& q, scan_fields fields) {
  event_view v;
  v.position = static_cast<std::uint64_t>(q.column_int64(0));
  v.version = static_cast<std::uint64_t>(q.column_int64(1));
  v.event_type = q.column_view(2);
  v.schema_version = static_cast<std::uint32_t>(q.column_int64(3));
  v.payload = q.column_view(4);
  v.recorded_at_us = q.column_int64(5);
  if (fields == scan_fields::without_ids) return v;
  v.command_id = q.column_view(6);
  v.correlation_id = q.column_view(7);
  v.causation_id = q.column_view(8);
  return v;
}

// Visits the rows of a log read (the event columns, then its stream's type
// and id) in order, counting them in `visited`; clears `more` when the
// visitor says stop. SQLITE_DONE at the end or at a stop, else SQLite's error.
int visit_log_rows(statement& q, scan_fields fields, const event_visitor& visit, std::size_t& visited, bool& more) {
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto v = row_view(q, fields);
    v.aggregate_type = q.column_view(event_columns);
    v.aggregate_id = q.column_view(event_columns + 1);
    ++visited;
    if (!(more = visit(v))) return SQLITE_DONE;
  }
  return rc;
}

// Binds up to positions_per_read positions to ?1.. of a by-position read, NULL after them.
void bind_positions(statement& q, std::span<const std::uint64_t> positions) {
  for (int i = 0; i < positions_per_read; ++i) {
    const auto at = static_cast<std::size_t>(i);
    if (at < positions.size()) q.bind(i + 1, to_int64(positions[at]));
    else q.bind_null(i + 1);
  }
}

// Reads the events of a stream's runs by position, checking each against
// the version and position expected: a run whose positions follow one another
// (a stream written alone, or in long requests) as one range, the others in
// lists of positions_per_read.
class run_reader {
 public:
  run_reader(statement& by_list, statement& by_range, std::int64_t key, scan_fields fields, stream_scan& scan,
             bool& agrees, const std::function<bool(event_view&)>& visit)
      : by_list_(by_list), by_range_(by_range), key_(key), fields_(fields), scan_(scan), agrees_(agrees),
        visit_(visit) {}

  std::size_t listed() const { return listed_.size(); }

  /// Reads or lists one run's positions (ascending in a sound stream).
  int add(const std::vector<std::uint64_t>& positions) {
    if (positions.size() >= min_range && positions.back() - positions.front() == positions.size() - 1) {
      if (int rc = flush(); rc != SQLITE_OK || !agrees_ || !scan_.more) return rc;
      return read_range(positions.front(), positions.back());
    }
    for (auto p : positions) {
      listed_.push_back(p);
      if (listed_.size() < static_cast<std::size_t>(positions_per_read)) continue;
      if (int rc = flush(); rc != SQLITE_OK || !agrees_ || !scan_.more) return rc;
    }
    return SQLITE_OK;
  }

  /// Reads the positions listed so far.
  int flush() {
    if (listed_.empty()) return SQLITE_OK;
    reset_on_exit guard{by_list_};
    bind_positions(by_list_, listed_);
    std::size_t read = 0;
    int rc;
    while ((rc = by_list_.step()) == SQLITE_ROW)
      if (!take(by_list_, listed_[read++])) return SQLITE_OK;
    if (rc != SQLITE_DONE) return rc;
    agrees_ = read == listed_.size();  // else a position without its event
    listed_.clear();
    return SQLITE_OK;
  }

 private:
  // Why 16: below it a range read costs more than its share of a list read.
  static constexpr std::size_t min_range = 16;

  int read_range(std::uint64_t first, std::uint64_t last) {
    reset_on_exit guard{by_range_};
    by_range_.bind(1, to_int64(first));
    by_range_.bind(2, to_int64(last));
    auto expected = first;
    int rc;
    while ((rc = by_range_.step()) == SQLITE_ROW)
      if (!take(by_range_, expected++)) return SQLITE_OK;
    if (rc != SQLITE_DONE) return rc;
    agrees_ = expected == last + 1;
    return SQLITE_OK;
  }

  // Visits the row if it is the event expected at `position`; false to stop.
  bool take(const statement& q, std::uint64_t position) {
    auto v = row_view(q, fields_);
    if (q.column_int64(event_columns) != key_ || v.version != scan_.next_version || v.position != position)
      return agrees_ = false;
    ++scan_.visited;
    scan_.next_version = v.version + 1;
    return scan_.more = visit_(v);
  }

  statement& by_list_;
  statement& by_range_;
  std::int64_t key_;
  scan_fields fields_;
  stream_scan& scan_;
  bool& agrees_;
  const std::function<bool(event_view&)>& visit_;
  std::vector<std::uint64_t> listed_;
};

}  // namespace

caf::error sqlite_journal::read_error(const std::string& what) const {
  return make_error(errc::storage, "cannot read " + what + " from journal '" + path_ + "': " + db_.last_error());
}

// The stream's folded events come from stream_runs, in version order; its
// events after the mark from the spans that follow. A run that does not match
// its events (the index is a cache a person could edit) makes the read go by
// spans from the stream's first event instead.
caf::expected<std::size_t> sqlite_journal::scan_stream(const std::string& aggregate_type,
                                                       const std::string& aggregate_id, std::uint64_t from_version,
                                                       std::size_t max_count, const event_visitor& visit,
                                                       scan_fields fields) {
  if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
  auto failed_read = [&] { return read_error("stream '" + detail::stream_name(aggregate_type, aggregate_id) + "'"); };
  std::int64_t key = 0;
  std::uint64_t first_position = 0;
  {
    reset_on_exit guard{q_.find_stream};
    q_.find_stream.bind(1, aggregate_type);
    q_.find_stream.bind(2, aggregate_id);
    const int rc = q_.find_stream.step();
    if (rc == SQLITE_DONE) return std::size_t{0};
    if (rc != SQLITE_ROW) return failed_read();
    key = q_.find_stream.column_int64(0);
    first_position = static_cast<std::uint64_t>(q_.find_stream.column_int64(1));
  }
  if (auto damage = damaged_streams_.find(key); damage != damaged_streams_.end())
    return make_error(errc::corrupt_event, damage->second);
  fold_state at;  // the mark is read first: a fold after it only adds to what the index holds
  if (read_fold_state(at) != SQLITE_OK) return failed_read();
  stream_scan scan{std::max<std::uint64_t>(from_version, 1)};
  auto name = [&](event_view& v) {
    v.aggregate_type = aggregate_type;
    v.aggregate_id = aggregate_id;
  };
  auto first_span = std::max(at.folded + 1, first_position) >> span_shift;
  if (first_position <= at.folded && max_count > 0) {
    bool agrees = true;
    if (scan_runs(key, at, max_count, fields, scan, agrees, [&](event_view& v) {
          name(v);
          return visit(v);
        }) != SQLITE_OK)
      return failed_read();
    if (!scan.more) return scan.visited;
    if (!agrees) first_span = first_position >> span_shift;
  }
  auto& q = fields == scan_fields::all ? q_.read_span : q_.read_span_lean;
  for (auto span = first_span; scan.more && scan.visited < max_count && span <= (at.last >> span_shift); ++span) {
    reset_on_exit guard{q};
    q.bind(1, to_int64(span));
    q.bind(2, key);
    q.bind(3, to_int64(scan.next_version));
    q.bind(4, to_int64(max_count - scan.visited));
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      auto v = row_view(q, fields);
      name(v);
      ++scan.visited;
      scan.next_version = v.version + 1;
      if (!(scan.more = visit(v))) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed_read();
  }
  return scan.visited;
}

// The folded part of a stream: its runs from scan.next_version on, their
// events read by position. Clears `agrees` at an event that is not the
// stream's next version, or a listed position without its event.
int sqlite_journal::scan_runs(std::int64_t key, const fold_state& at, std::size_t max_count, scan_fields fields,
                              stream_scan& scan, bool& agrees, const std::function<bool(event_view&)>& visit) {
  auto& runs = q_.read_runs;
  reset_on_exit runs_guard{runs};
  runs.bind(1, key);
  runs.bind(2, to_int64(scan.next_version));
  const bool all = fields == scan_fields::all;
  run_reader reader{all ? q_.read_stream_by_position : q_.read_stream_by_position_lean,
                    all ? q_.read_stream_range : q_.read_stream_range_lean,
                    key, fields, scan, agrees, visit};
  std::vector<std::uint64_t> positions;  // of the run at hand, from the version wanted on
  std::uint64_t wanted = scan.next_version;
  int rc;
  while ((rc = runs.step()) == SQLITE_ROW) {
    const auto first = static_cast<std::uint64_t>(runs.column_int64(0));
    const auto span = static_cast<std::uint64_t>(runs.column_int64(1));
    const auto offsets = runs.column_blob(2);
    if (first > wanted) {  // a gap: read by spans, which stop at it as readers do
      agrees = false;
      return SQLITE_OK;
    }
    positions.clear();
    for (auto i = static_cast<std::size_t>(wanted - first); i < run_length(offsets); ++i) {
      const auto position = position_in_run(offsets, span, i);
      if (position > at.folded || scan.visited + reader.listed() + positions.size() >= max_count) break;
      positions.push_back(position);
    }
    wanted += positions.size();
    if (int read = reader.add(positions); read != SQLITE_OK || !agrees || !scan.more) return read;
    if (wanted < first + run_length(offsets)) break;  // cut at max_count or at the mark
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
  return reader.flush();
}

caf::expected<std::size_t> sqlite_journal::scan_all(std::uint64_t from_position, std::size_t max_count,
                                                    const event_visitor& visit, scan_fields fields) {
  auto& q = fields == scan_fields::all ? q_.read_all : q_.read_all_lean;
  reset_on_exit guard{q};
  q.bind(1, to_int64(from_position));
  q.bind(2, to_int64(max_count));
  std::size_t n = 0;
  bool more = true;
  if (visit_log_rows(q, fields, visit, n, more) != SQLITE_DONE)
    return read_error("events from position " + std::to_string(from_position));
  return n;
}

namespace {

// A filtered read's folded part goes window by window: each costs a few seeks
// per listed type, whatever the window holds.
constexpr std::uint64_t filter_window = std::uint64_t{1} << 16;

std::string json_array(const std::vector<std::string>& names) { return nlohmann::json(names).dump(); }

// Binds a filter's list, or NULL for an empty one (which lets every value through).
void bind_list(statement& q, int parameter, const std::vector<std::string>& names, const std::string& json) {
  if (names.empty()) q.bind_or_null(parameter, {});
  else q.bind(parameter, json);
}

}  // namespace

// One window [next, last] of the folded part of a filtered read: the rows
// log_runs lists under `keys` (a JSON array). Read from their copies when
// every row has sound ones; else the positions, in order, their events read
// positions_per_read at a time.
int sqlite_journal::scan_filtered_folded(const std::string& keys, std::uint64_t next, std::uint64_t last,
                                         std::size_t max_count, scan_fields fields, const event_visitor& visit,
                                         std::size_t& visited, bool& more) {
  std::vector<log_row> rows;
  {
    auto& runs = q_.read_log_runs;
    reset_on_exit guard{runs};
    runs.bind(1, keys);
    runs.bind(2, to_int64(next & ~span_mask));  // a row of next's span may start before it
    runs.bind(3, to_int64(last));
    int rc;
    while ((rc = runs.step()) == SQLITE_ROW)
      rows.push_back(log_row{runs.column_int64(2), span_of(static_cast<std::uint64_t>(runs.column_int64(0))),
                             std::string{runs.column_blob(1)}, std::string{runs.column_blob(3)}});
    if (rc != SQLITE_DONE) return rc;
  }
  bool copied = true;
  if (int rc = visit_copies(rows, next, last, max_count, fields, visit, visited, more, copied);
      rc != SQLITE_OK || copied)
    return rc;
  std::vector<std::uint64_t> positions;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < run_length(row.offsets); ++i)
      if (const auto p = position_in_run(row.offsets, row.span, i); p >= next && p <= last) positions.push_back(p);
  std::sort(positions.begin(), positions.end());
  positions.resize(std::min(positions.size(), max_count - visited));
  auto& q = fields == scan_fields::all ? q_.read_log_by_position : q_.read_log_by_position_lean;
  const std::span<const std::uint64_t> all{positions};
  for (std::size_t at = 0; at < all.size() && more; at += positions_per_read) {
    reset_on_exit guard{q};
    bind_positions(q, all.subspan(at, std::min<std::size_t>(positions_per_read, all.size() - at)));
    if (int rc = visit_log_rows(q, fields, visit, visited, more); rc != SQLITE_DONE) return rc;
  }
  return SQLITE_OK;
}

// The window's events from the rows' copies, merged in position order. Clears
// `copied`, visiting nothing, if a row has none or they do not match its
// positions (a build that keeps no copies folded it, or left them stale).
int sqlite_journal::visit_copies(const std::vector<log_row>& rows, std::uint64_t next, std::uint64_t last,
                                 std::size_t max_count, scan_fields fields, const event_visitor& visit,
                                 std::size_t& visited, bool& more, bool& copied) {
  std::vector<event_view> events;
  for (const auto& row : rows) {
    const std::pair<std::string, std::string>* names = nullptr;
    if (row.copies.empty()) return copied = false, SQLITE_OK;
    if (int rc = type_names_of(row.type_key, names); rc != SQLITE_OK) return rc;
    copy_reader reader{row.copies, row.offsets, row.span};
    event_view v;
    while (reader.next(v)) {
      if (v.position < next || v.position > last) continue;
      v.aggregate_type = names->first;
      v.event_type = names->second;
      if (fields == scan_fields::without_ids) v.command_id = v.correlation_id = v.causation_id = {};
      events.push_back(v);
    }
    if (!reader.valid()) return copied = false, SQLITE_OK;
  }
  std::sort(events.begin(), events.end(), [](const event_view& a, const event_view& b) {
    return a.position < b.position;
  });
  for (std::size_t i = 0; i < events.size() && more && visited < max_count; ++i) {
    ++visited;
    more = visit(events[i]);
  }
  return SQLITE_OK;
}

// The names of type key `key`, kept for the connection's life.
int sqlite_journal::type_names_of(std::int64_t key, const std::pair<std::string, std::string>*& out) {
  if (auto known = type_names_.find(key); known != type_names_.end()) {
    out = &known->second;
    return SQLITE_OK;
  }
  auto& q = q_.type_names;
  reset_on_exit guard{q};
  q.bind(1, key);
  const int rc = q.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;  // a key log_runs uses must exist
  out = &type_names_.try_emplace(key, q.column_text(0), q.column_text(1)).first->second;
  return SQLITE_OK;
}

// Up to the folded mark through log_runs, a window of positions at a time;
// after it, the events themselves, filtered (at most 32 spans of them).
caf::expected<std::size_t> sqlite_journal::scan_filtered(std::uint64_t from_position, std::size_t max_count,
                                                         const log_filter& filter, const event_visitor& visit,
                                                         scan_fields fields) {
  if (filter.empty()) return scan_all(from_position, max_count, visit, fields);
  fold_state at;
  if (read_fold_state(at) != SQLITE_OK) return read_error("the folded mark");
  std::size_t visited = 0;
  bool more = true;
  auto next = std::max<std::uint64_t>(from_position, 1);
  auto take = [&](statement& q) { return visit_log_rows(q, fields, visit, visited, more); };
  auto failed_read = [&] { return read_error("events of a filtered read from position " + std::to_string(next)); };
  const auto event_types = json_array(filter.event_types), aggregate_types = json_array(filter.aggregate_types);
  if (next <= at.folded) {
    std::string keys;  // of the pairs of types the filter lets through
    {
      reset_on_exit guard{q_.type_keys_of};
      bind_list(q_.type_keys_of, 1, filter.aggregate_types, aggregate_types);
      bind_list(q_.type_keys_of, 2, filter.event_types, event_types);
      if (q_.type_keys_of.step() != SQLITE_ROW) return read_error("the type keys");
      keys = q_.type_keys_of.column_text(0);
    }
    for (; keys != "[]" && more && visited < max_count && next <= at.folded;) {
      const auto last = std::min(next + filter_window - 1, at.folded);
      if (scan_filtered_folded(keys, next, last, max_count, fields, visit, visited, more) != SQLITE_OK)
        return failed_read();
      next = last + 1;
    }
    next = std::max(next, at.folded + 1);
  }
  if (!more || visited >= max_count) return visited;
  auto& q = q_.read_filtered_open;
  reset_on_exit guard{q};
  q.bind(1, to_int64(next));
  bind_list(q, 2, filter.event_types, event_types);
  bind_list(q, 3, filter.aggregate_types, aggregate_types);
  q.bind(4, to_int64(max_count - visited));
  if (take(q) != SQLITE_DONE) return failed_read();
  return visited;
}

caf::expected<std::vector<stored_event>> sqlite_journal::read_stream(const std::string& aggregate_type,
                                                                     const std::string& aggregate_id,
                                                                     std::uint64_t from_version,
                                                                     std::size_t max_count) {
  std::vector<stored_event> out;
  auto scanned = scan_stream(aggregate_type, aggregate_id, from_version, max_count, [&](const event_view& v) {
    out.push_back(to_stored(v));
    return true;
  });
  if (!scanned) return std::move(scanned.error());
  return out;
}

caf::expected<std::vector<stored_event>> sqlite_journal::read_all(std::uint64_t from_position,
                                                                  std::size_t max_count) {
  std::vector<stored_event> out;
  auto scanned = scan_all(from_position, max_count, [&](const event_view& v) {
    out.push_back(to_stored(v));
    return true;
  });
  if (!scanned) return std::move(scanned.error());
  return out;
}

caf::expected<std::uint64_t> sqlite_journal::last_position() {
  std::uint64_t last = 0;
  if (read_last_position(last) != SQLITE_OK) return read_error("the last position");
  return last;
}

caf::expected<std::uint64_t> sqlite_journal::stream_version(const std::string& aggregate_type,
                                                            const std::string& aggregate_id) {
  if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
  fold_state at;
  stream_row stream;
  if (read_fold_state(at) != SQLITE_OK || find_stream(aggregate_type, aggregate_id, stream, at) != SQLITE_OK)
    return read_error("the version of stream '" + detail::stream_name(aggregate_type, aggregate_id) + "'");
  return stream.version;
}

caf::expected<std::optional<snapshot_record>> sqlite_journal::load_snapshot(const std::string& aggregate_type,
                                                                            const std::string& aggregate_id,
                                                                            std::uint64_t max_version,
                                                                            std::int64_t max_recorded_at_us) {
  if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
  auto& q = q_.load_snapshot;
  reset_on_exit guard{q};
  q.bind(1, aggregate_type);
  q.bind(2, aggregate_id);
  q.bind(3, to_int64(max_version));
  q.bind(4, max_recorded_at_us);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<snapshot_record>{};
  if (rc != SQLITE_ROW)
    return read_error("the snapshot of stream '" + detail::stream_name(aggregate_type, aggregate_id) + "'");
  snapshot_record out;
  out.version = static_cast<std::uint64_t>(q.column_int64(0));
  out.state_version = static_cast<std::uint32_t>(q.column_int64(1));
  out.state = q.column_text(2);
  out.recorded_at_us = q.column_int64(3);
  return std::optional{std::move(out)};
}

caf::expected<std::optional<command_record>> sqlite_journal::find_command(const std::string& command_id) {
  auto& q = q_.find_command;
  reset_on_exit guard{q};
  q.bind(1, command_id);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<command_record>{};
  if (rc != SQLITE_ROW) return read_error("command " + command_id);
  command_record out;
  out.aggregate_type = q.column_text(0);
  out.aggregate_id = q.column_text(1);
  out.first_position = static_cast<std::uint64_t>(q.column_int64(2));
  out.last_position = static_cast<std::uint64_t>(q.column_int64(3));
  out.last_version = static_cast<std::uint64_t>(q.column_int64(4));
  out.result_json = q.column_text(5);
  out.command_type = q.column_text(6);
  // error_code NULL (it succeeded) reads as 0, which is no errc (they start at 1).
  if (const auto code = q.column_int64(7); code != 0)
    out.refusal = make_error(static_cast<errc>(code), q.column_text(8));
  return std::optional{std::move(out)};
}

}  // namespace interlock::sqlite
