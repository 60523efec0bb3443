// The SQLite journal's reads: a stream from stream_index and then the spans
// after the folded mark; the log in position order; snapshots and commands.
#include <interlock/persistence/sqlite/journal_impl.hpp>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <interlock/persistence/journal_detail.hpp>
#include <interlock/persistence/sqlite/sql_values.hpp>
#include <interlock/runtime/errors.hpp>

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

// What a stream read has done so far.
struct stream_scan {
  std::uint64_t next_version;  // the lowest version still to visit
  std::size_t visited = 0;
  bool more = true;  // false once the visitor said stop
};

}  // namespace

caf::error sqlite_journal::read_error(const std::string& what) const {
  return make_error(errc::storage, "cannot read " + what + " from journal '" + path_ + "': " + db_.last_error());
}

// The stream's folded events come from stream_index, in version order; its
// events after the mark from the spans that follow. An index entry that does
// not match its event (the index is a cache a person could edit) makes the
// read go by spans from the stream's first event instead.
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
    auto& q = fields == scan_fields::all ? q_.read_folded : q_.read_folded_lean;
    reset_on_exit guard{q};
    q.bind(1, key);
    q.bind(2, to_int64(scan.next_version));
    q.bind(3, to_int64(max_count));
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      auto v = row_view(q, fields);
      if (q.column_int64(event_columns) != key || static_cast<std::uint64_t>(q.column_int64(event_columns + 1)) !=
                                                       v.version || v.version != scan.next_version) {
        first_span = first_position >> span_shift;  // the index disagrees with the events
        break;
      }
      name(v);
      ++scan.visited;
      scan.next_version = v.version + 1;
      if (!(scan.more = visit(v))) return scan.visited;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed_read();
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

// Up to the folded mark through log_index, a window of positions at a time;
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
    auto& q = q_.read_filtered_folded;
    for (; keys != "[]" && more && visited < max_count && next <= at.folded;) {
      const auto last = std::min(next + filter_window - 1, at.folded);
      reset_on_exit guard{q};
      q.bind(1, keys);
      q.bind(2, to_int64(next));
      q.bind(3, to_int64(last));
      q.bind(4, to_int64(max_count - visited));
      if (take(q) != SQLITE_DONE) return failed_read();
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
  return std::optional{std::move(out)};
}

}  // namespace interlock::sqlite
