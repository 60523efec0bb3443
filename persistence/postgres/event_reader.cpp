// The PostgreSQL journal's reads: each one statement, its rows visited in
// place (event_view points into libpq's result), never copied unless the
// caller asked for stored_events.
#include <interlock/persistence/postgres/journal_impl.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal_detail.hpp>

namespace interlock::postgres {
namespace {

// The columns both kinds of read end with, from schema_version (at `first`)
// to causation_id, in statements.hpp's order.
static_assert(col_causation_id - col_schema_version == 5 && log_causation_id - log_schema_version == 5);
void read_tail(const result& r, int row, int first, event_view& v) {
  v.schema_version = static_cast<std::uint32_t>(r.int64(row, first));
  v.payload = r.text(row, first + 1);
  v.recorded_at_us = r.int64(row, first + 2);
  v.command_id = r.text(row, first + 3);
  v.correlation_id = r.is_null(row, first + 4) ? v.command_id : r.text(row, first + 4);  // NULL: the command id
  v.causation_id = r.text(row, first + 5);
}

event_view view_at(const result& r, int row) {
  event_view v;
  v.position = static_cast<std::uint64_t>(r.int64(row, col_position));
  v.aggregate_type = r.text(row, col_aggregate_type);
  v.aggregate_id = r.text(row, col_aggregate_id);
  v.version = static_cast<std::uint64_t>(r.int64(row, col_version));
  v.event_type = r.text(row, col_event_type);
  read_tail(r, row, col_schema_version, v);
  return v;
}

// A log row, its names from `names` (fetch_names() found every key).
event_view log_view_at(const result& r, int row, const name_cache& names) {
  event_view v;
  const auto& stream = *names.stream(r.int64(row, log_stream_key));
  v.position = static_cast<std::uint64_t>(r.int64(row, log_position));
  v.aggregate_type = stream.first;
  v.aggregate_id = stream.second;
  v.version = static_cast<std::uint64_t>(r.int64(row, log_version));
  v.event_type = names.type(r.int64(row, log_type_key))->second;
  read_tail(r, row, log_schema_version, v);
  return v;
}

caf::error failed(const std::string& what, const caf::error& err) {
  return make_error(errc::storage, "cannot " + what + ": " + message_of(err));
}

caf::expected<std::vector<stored_event>> collect(const std::function<caf::expected<std::size_t>(const event_visitor&)>& scan) {
  std::vector<stored_event> out;
  auto n = scan([&](const event_view& v) {
    out.push_back(to_stored(v));
    return true;
  });
  if (!n) return std::move(n.error());
  return out;
}

}  // namespace

caf::expected<std::size_t> postgres_journal::visit_rows(query q, std::size_t max_count, const event_visitor& visit,
                                                        const std::string& what) {
  if (max_count == 0) return std::size_t{0};
  if (auto err = ready()) return failed(what, err);
  auto rows = db_.run_one(std::move(q), options_.timeout);
  if (!rows) return failed(what, rows.error());
  std::size_t n = 0;
  for (int r = 0; r < rows->rows(); ++r) {
    ++n;
    if (!visit(view_at(*rows, r))) break;
  }
  return n;
}

caf::expected<std::size_t> postgres_journal::scan_stream(const std::string& aggregate_type,
                                                         const std::string& aggregate_id, std::uint64_t from_version,
                                                         std::size_t max_count, const event_visitor& visit,
                                                         scan_fields) {
  if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
  return visit_rows({q_.read_stream, params{}
                                         .text(aggregate_type)
                                         .text(aggregate_id)
                                         .int64(to_bigint(from_version))
                                         .int64(to_bigint(max_count))},
                    max_count, visit, "read stream '" + detail::stream_name(aggregate_type, aggregate_id) + "'");
}

// A page of the log, then the names of the keys in it that names_ lacks
// (one more round trip, only then), then its events visited.
caf::expected<std::size_t> postgres_journal::visit_log(query q, std::size_t max_count, const event_visitor& visit,
                                                       const std::string& what) {
  if (max_count == 0) return std::size_t{0};
  if (auto err = ready()) return failed(what, err);
  auto rows = db_.run_one(std::move(q), options_.timeout);
  if (!rows) return failed(what, rows.error());
  if (auto err = fetch_names(*rows)) return failed(what, err);
  std::size_t n = 0;
  for (int r = 0; r < rows->rows(); ++r) {
    ++n;
    if (!visit(log_view_at(*rows, r, names_))) break;
  }
  return n;
}

caf::error postgres_journal::fetch_names(const result& rows) {
  std::unordered_set<std::int64_t> streams, types;
  const auto collect_misses = [&] {
    for (int r = 0; r < rows.rows(); ++r) {
      if (const auto k = rows.int64(r, log_stream_key); !names_.stream(k)) streams.insert(k);
      if (const auto k = rows.int64(r, log_type_key); !names_.type(k)) types.insert(k);
    }
  };
  collect_misses();
  if (streams.empty() && types.empty()) return {};
  if (names_.make_room(streams.size() + types.size())) collect_misses();
  array_literal stream_keys, type_keys;
  for (auto k : streams) stream_keys.add(k);
  for (auto k : types) type_keys.add(k);
  auto found = db_.run({{q_.stream_names, params{}.text(stream_keys.str())},
                        {q_.type_names, params{}.text(type_keys.str())}},
                       options_.timeout);
  if (!found) return std::move(found.error());
  const auto& s = (*found)[0];
  const auto& t = (*found)[1];
  for (int r = 0; r < s.rows(); ++r) names_.add_stream(s.int64(r, 0), {std::string{s.text(r, 1)}, std::string{s.text(r, 2)}});
  for (int r = 0; r < t.rows(); ++r) names_.add_type(t.int64(r, 0), {std::string{t.text(r, 1)}, std::string{t.text(r, 2)}});
  if (s.rows() != static_cast<int>(streams.size()) || t.rows() != static_cast<int>(types.size()))
    return make_error(errc::storage, db_.server() + ": journal schema '" + options_.schema +
                                         "' holds events whose stream or event type key has no row");
  return {};
}

caf::expected<std::size_t> postgres_journal::scan_all(std::uint64_t from_position, std::size_t max_count,
                                                      const event_visitor& visit, scan_fields) {
  return visit_log({q_.read_all, params{}.int64(to_bigint(from_position)).int64(to_bigint(max_count))}, max_count,
                    visit, "read the log from position " + std::to_string(from_position));
}

// The filter runs in the server, in two round trips: the page's positions
// from the index of the events' type keys (statements.cpp), then its rows.
caf::expected<std::size_t> postgres_journal::scan_filtered(std::uint64_t from_position, std::size_t max_count,
                                                           const log_filter& filter, const event_visitor& visit,
                                                           scan_fields) {
  const auto what = "read the log by type from position " + std::to_string(from_position);
  if (max_count == 0) return std::size_t{0};
  if (auto err = ready()) return failed(what, err);
  array_literal aggregate_types, event_types;
  for (const auto& t : filter.aggregate_types) aggregate_types.add(t);
  for (const auto& t : filter.event_types) event_types.add(t);
  auto page = db_.run_one({q_.filtered_positions, params{}
                                                      .int64(to_bigint(from_position))
                                                      .text(aggregate_types.str())
                                                      .text(event_types.str())
                                                      .int64(to_bigint(max_count))},
                          options_.timeout);
  if (!page) return failed(what, page.error());
  if (page->rows() == 0) return std::size_t{0};
  return visit_log(rows_of(*page), max_count, visit, what);
}

// The rows of a page of positions (position, type key), in order: a range
// when they lie close together (it reads at most twice the rows it
// returns), else each by its position. Every event of the page's types
// between its first and last position is in the page.
query postgres_journal::rows_of(const result& page) const {
  const auto count = page.rows();
  const auto first = page.int64(0, 0), last = page.int64(count - 1, 0);
  array_literal list;
  if (last - first < 2 * static_cast<std::int64_t>(count)) {
    std::unordered_set<std::int64_t> types;
    for (int r = 0; r < count; ++r)
      if (types.insert(page.int64(r, 1)).second) list.add(page.int64(r, 1));
    return {q_.read_range_of_types, params{}.int64(first).int64(last).text(list.str())};
  }
  for (int r = 0; r < count; ++r) list.add(page.int64(r, 0));
  return {q_.read_positions, params{}.text(list.str())};
}

caf::expected<std::vector<stored_event>> postgres_journal::read_stream(const std::string& aggregate_type,
                                                                       const std::string& aggregate_id,
                                                                       std::uint64_t from_version,
                                                                       std::size_t max_count) {
  return collect([&](const event_visitor& v) { return scan_stream(aggregate_type, aggregate_id, from_version, max_count, v); });
}

caf::expected<std::vector<stored_event>> postgres_journal::read_all(std::uint64_t from_position,
                                                                    std::size_t max_count) {
  return collect([&](const event_visitor& v) { return scan_all(from_position, max_count, v); });
}

caf::expected<std::uint64_t> postgres_journal::last_position() {
  if (auto err = ready()) return failed("read the last position", err);
  auto r = db_.run_one({q_.last_position}, options_.timeout);
  if (!r) return failed("read the last position", r.error());
  return static_cast<std::uint64_t>(r->rows() == 1 ? r->int64(0, 0) : 0);
}

caf::expected<std::uint64_t> postgres_journal::stream_version(const std::string& aggregate_type,
                                                              const std::string& aggregate_id) {
  if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
  const auto what = "read the version of stream '" + detail::stream_name(aggregate_type, aggregate_id) + "'";
  if (auto err = ready()) return failed(what, err);
  auto r = db_.run_one({q_.stream_version, params{}.text(aggregate_type).text(aggregate_id)}, options_.timeout);
  if (!r) return failed(what, r.error());
  return static_cast<std::uint64_t>(r->int64(0, 0));
}

caf::expected<std::optional<snapshot_record>> postgres_journal::load_snapshot(const std::string& aggregate_type,
                                                                             const std::string& aggregate_id,
                                                                             std::uint64_t max_version,
                                                                             std::int64_t max_recorded_at_us) {
  if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
  const auto what = "load a snapshot of stream '" + detail::stream_name(aggregate_type, aggregate_id) + "'";
  if (auto err = ready()) return failed(what, err);
  auto r = db_.run_one({q_.load_snapshot, params{}
                                              .text(aggregate_type)
                                              .text(aggregate_id)
                                              .int64(to_bigint(max_version))
                                              .int64(max_recorded_at_us)},
                       options_.timeout);
  if (!r) return failed(what, r.error());
  if (r->rows() == 0) return std::optional<snapshot_record>{};
  snapshot_record s;
  s.version = static_cast<std::uint64_t>(r->int64(0, 0));
  s.state_version = static_cast<std::uint32_t>(r->int64(0, 1));
  s.state = r->text(0, 2);
  s.recorded_at_us = r->int64(0, 3);
  return std::optional{std::move(s)};
}

caf::expected<std::optional<command_record>> postgres_journal::find_command(const std::string& command_id) {
  const auto what = "look up command " + command_id;
  if (auto err = ready()) return failed(what, err);
  auto r = db_.run_one({q_.find_command, params{}.text(command_id)}, options_.timeout);
  if (!r) return failed(what, r.error());
  if (r->rows() == 0) return std::optional<command_record>{};
  command_record c;
  c.aggregate_type = r->text(0, 0);
  c.aggregate_id = r->text(0, 1);
  c.first_position = static_cast<std::uint64_t>(r->int64(0, 2));
  c.last_position = static_cast<std::uint64_t>(r->int64(0, 3));
  c.last_version = static_cast<std::uint64_t>(r->int64(0, 4));
  c.result_json = r->text(0, 5);
  c.command_type = r->text(0, 6);
  if (!r->is_null(0, 7)) c.refusal = make_error(static_cast<errc>(r->int64(0, 7)), std::string{r->text(0, 8)});
  return std::optional{std::move(c)};
}

}  // namespace interlock::postgres
