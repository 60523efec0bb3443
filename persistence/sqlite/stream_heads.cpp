// Stream heads: a stream's current version from its newest run in
// stream_runs and the spans after the folded mark.
#include <interlock/persistence/sqlite/journal_impl.hpp>

#include <limits>

#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/core/log.hpp>
#include <interlock/persistence/journal_detail.hpp>
#include <interlock/persistence/sqlite/runs.hpp>
#include <interlock/persistence/sqlite/sql_values.hpp>

namespace interlock::sqlite {
namespace {

// What indexed_head() found when the index and the events disagree.
constexpr int index_disagrees = -1;

constexpr auto newest_version = std::numeric_limits<std::int64_t>::max();

}  // namespace

// `at`: the folded mark and last position of the caller's transaction or read.
int sqlite_journal::find_stream(const std::string& aggregate_type, const std::string& aggregate_id,
                                stream_row& out, const fold_state& at) {
  out = stream_row{};
  {
    reset_on_exit guard{q_.find_stream};
    q_.find_stream.bind(1, aggregate_type);
    q_.find_stream.bind(2, aggregate_id);
    const int rc = q_.find_stream.step();
    if (rc == SQLITE_DONE) return SQLITE_OK;
    if (rc != SQLITE_ROW) return rc;
    out.key = q_.find_stream.column_int64(0);
    out.first_position = static_cast<std::uint64_t>(q_.find_stream.column_int64(1));
  }
  return stream_head(out, at);
}

// Sets stream.version: the newest folded version, then the newest event of
// the spans after the mark, looked for from the newest span down. The writer
// repairs a stream whose index disagrees with its events; a reader finds its
// head from the events alone.
int sqlite_journal::stream_head(stream_row& stream, const fold_state& at) {
  int rc = indexed_head(stream, at);
  auto lowest_span = span_of(std::max(at.folded + 1, stream.first_position));
  bool by_spans_only = false;
  if (rc == index_disagrees) {
    if (db_.in_transaction()) {
      log(log_level::warning, "journal '" + path_ + "': the stream index of '" + describe_stream(stream.key) +
                                  "' disagrees with its events; rebuilding it from the events");
      if ((rc = reindex_stream(stream, at.folded)) != SQLITE_OK) return rc;
      rc = indexed_head(stream, at);
    } else {
      stream.version = 0;
      lowest_span = span_of(stream.first_position);
      by_spans_only = true;
      rc = SQLITE_OK;
    }
  }
  if (rc != SQLITE_OK) return rc == index_disagrees ? SQLITE_CORRUPT : rc;
  if (at.last <= at.folded && !by_spans_only) return SQLITE_OK;  // nothing after the mark
  for (auto span = span_of(at.last); span >= lowest_span; --span) {
    reset_on_exit guard{q_.span_head};
    q_.span_head.bind(1, to_int64(span));
    q_.span_head.bind(2, stream.key);
    rc = q_.span_head.step();
    if (rc == SQLITE_ROW) {
      stream.version = std::max(stream.version, static_cast<std::uint64_t>(q_.span_head.column_int64(0)));
      return SQLITE_OK;
    }
    if (rc != SQLITE_DONE) return rc;
    if (span == 0) break;
  }
  return SQLITE_OK;
}

// The stream's newest folded version, checked against the event its run
// points to; index_disagrees if they differ or a folded stream has no run.
int sqlite_journal::indexed_head(stream_row& stream, const fold_state& at) {
  stream.version = 0;
  indexed_event head;
  if (int rc = last_indexed(stream.key, head); rc != SQLITE_OK) return rc;
  if (head.version == 0) return stream.first_position <= at.folded ? index_disagrees : SQLITE_OK;
  if (head.position > at.folded) return index_disagrees;
  reset_on_exit guard{q_.event_at};
  q_.event_at.bind(1, to_int64(head.position));
  const int rc = q_.event_at.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
  if (rc == SQLITE_DONE || q_.event_at.column_int64(0) != stream.key ||
      static_cast<std::uint64_t>(q_.event_at.column_int64(1)) != head.version)
    return index_disagrees;
  stream.version = head.version;
  return SQLITE_OK;
}

// The stream's newest run's last event; version 0 if it has no run.
int sqlite_journal::last_indexed(std::int64_t stream_key, indexed_event& out) {
  out = indexed_event{};
  auto& q = q_.run_at_or_before;
  reset_on_exit guard{q};
  q.bind(1, stream_key);
  q.bind(2, newest_version);
  const int rc = q.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_OK : rc;
  const auto offsets = q.column_blob(2);
  if (run_length(offsets) == 0) return SQLITE_CORRUPT;
  out.version = static_cast<std::uint64_t>(q.column_int64(0)) + run_length(offsets) - 1;
  out.position = position_in_run(offsets, static_cast<std::uint64_t>(q.column_int64(1)), run_length(offsets) - 1);
  return SQLITE_OK;
}

// The position stream_runs gives the stream's `version`; 0 if none.
int sqlite_journal::indexed_position(std::int64_t stream_key, std::uint64_t version, std::uint64_t& out) {
  out = 0;
  auto& q = q_.run_at_or_before;
  reset_on_exit guard{q};
  q.bind(1, stream_key);
  q.bind(2, to_int64(version));
  const int rc = q.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_OK : rc;
  const auto first = static_cast<std::uint64_t>(q.column_int64(0));
  const auto offsets = q.column_blob(2);
  if (version - first < run_length(offsets))
    out = position_in_run(offsets, static_cast<std::uint64_t>(q.column_int64(1)), version - first);
  return SQLITE_OK;
}

int sqlite_journal::read_fold_state(fold_state& out) {
  if (int rc = read_folded_mark(out.folded); rc != SQLITE_OK) return rc;
  return read_last_position(out.last);
}

int sqlite_journal::read_folded_mark(std::uint64_t& out) {
  reset_on_exit guard{q_.folded_mark};
  const int rc = q_.folded_mark.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;  // the format always has the row
  out = static_cast<std::uint64_t>(q_.folded_mark.column_int64(0));
  return SQLITE_OK;
}

std::string sqlite_journal::describe_stream(std::int64_t stream_key) {
  statement q;
  if (q.prepare(db_.get(), "SELECT aggregate_type, aggregate_id FROM streams WHERE stream_key = ?1") == SQLITE_OK) {
    q.bind(1, stream_key);
    if (q.step() == SQLITE_ROW) return detail::stream_name(q.column_text(0), q.column_text(1));
  }
  return "#" + std::to_string(stream_key) + " (no row in streams)";
}

}  // namespace interlock::sqlite
