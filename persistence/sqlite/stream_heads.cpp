// Stream heads and the fold: a stream's current version from stream_index and
// the spans after the folded mark, and the fold that moves that mark.
//
// Why the fold is sized as it is: a stream read seeks each span after the
// mark, so the mark must follow the journal; but each fold rewrites the index
// pages its streams' entries land on, so it should take many events at once.
// maintain() (the writer's idle time) folds once 16 spans are open, append()
// only past 32 (a writer that is never idle); both leave the newest 2 open.
// A read then seeks at most 32 spans (~5 us each when cached); a fold costs
// ~0.5 us of the commit thread per event folded on a small index (bench/README).
#include <interlock/persistence/sqlite/journal_impl.hpp>

#include <sqlite3.h>

#include <interlock/persistence/journal_detail.hpp>
#include <interlock/persistence/sqlite/sql_values.hpp>
#include <interlock/runtime/errors.hpp>
#include <interlock/runtime/log.hpp>

namespace interlock::sqlite {
namespace {

constexpr std::uint64_t idle_fold_spans = 16;
constexpr std::uint64_t spans_kept_open = 2;

// What indexed_head() found when the index and the events disagree.
constexpr int index_disagrees = -1;

std::uint64_t span_of(std::uint64_t position) { return position >> span_shift; }

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

// The stream's newest folded version, checked against the event the index
// points to; index_disagrees if they differ or a folded stream has no entry.
int sqlite_journal::indexed_head(stream_row& stream, const fold_state& at) {
  stream.version = 0;
  reset_on_exit guard{q_.indexed_head};
  q_.indexed_head.bind(1, stream.key);
  const int rc = q_.indexed_head.step();
  if (rc == SQLITE_DONE) return stream.first_position <= at.folded ? index_disagrees : SQLITE_OK;
  if (rc != SQLITE_ROW) return rc;
  const auto version = static_cast<std::uint64_t>(q_.indexed_head.column_int64(0));
  const auto position = static_cast<std::uint64_t>(q_.indexed_head.column_int64(1));
  if (position > at.folded || q_.indexed_head.column_int64(2) != stream.key ||
      static_cast<std::uint64_t>(q_.indexed_head.column_int64(3)) != version)
    return index_disagrees;
  stream.version = version;
  return SQLITE_OK;
}

// Inside a write transaction: the stream's index entries anew from its events.
int sqlite_journal::reindex_stream(const stream_row& stream, std::uint64_t folded) {
  statement drop, fill;
  int rc = drop.prepare(db_.get(), "DELETE FROM stream_index WHERE stream_key = ?1");
  if (rc != SQLITE_OK) return rc;
  drop.bind(1, stream.key);
  if ((rc = run(drop)) != SQLITE_OK) return rc;
  rc = fill.prepare(db_.get(),
                    "INSERT INTO stream_index SELECT stream_key, version, global_position FROM events"
                    " WHERE global_position >= ?2 AND global_position <= ?3 AND stream_key = ?1 ORDER BY version");
  if (rc != SQLITE_OK) return rc;
  fill.bind(1, stream.key);
  fill.bind(2, to_int64(stream.first_position));
  fill.bind(3, to_int64(folded));
  return run(fill);
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

caf::expected<bool> sqlite_journal::maintain() {
  fold_state at;
  if (read_fold_state(at) != SQLITE_OK) return read_error("the folded mark");
  if (auto err = fold_if_over(at, idle_fold_spans)) return err;
  return false;
}

// With more than `limit` spans open, folds every span but the newest few.
caf::error sqlite_journal::fold_if_over(const fold_state& at, std::uint64_t limit) {
  const auto newest = span_of(at.last);
  if (at.open_spans() <= limit || newest < spans_kept_open) return {};
  return fold(((newest - spans_kept_open + 1) << span_shift) - 1, false);
}

// In a transaction of its own: adds the events after the folded mark, up to
// position `to`, to stream_index and moves the mark. A (stream, version)
// stored twice cannot be indexed: the fold fails with errc::corrupt_event
// naming stream, version and positions, and is not tried again by this
// connection while the mark stays (reads stay right: they seek more spans,
// and the readers' version checks stop at the duplicate). With `check_gaps`
// (at open) a gap is looked for and logged; it is indexed as it is, and
// readers stop at it. The fold commits without its own fsync: it is a cache,
// and the next append's fsync of the log covers it.
caf::error sqlite_journal::fold(std::uint64_t to, bool check_gaps) {
  // SQLite takes a new synchronous level only outside a transaction.
  const bool relax = synchronous_ > sync_mode::normal;
  if (relax && run(q_.sync_normal) != SQLITE_OK) return read_error("a synchronous level for the fold");
  auto err = fold_in_transaction(to, check_gaps);
  if (relax && run(q_.sync_configured) != SQLITE_OK && !err)
    err = make_error(errc::storage, "cannot restore the synchronous level of journal '" + path_ + "': " +
                                        db_.last_error());
  return err;
}

caf::error sqlite_journal::fold_in_transaction(std::uint64_t to, bool check_gaps) {
  if (run(q_.begin) != SQLITE_OK) return read_error("a transaction for the fold");
  auto fail = [&](caf::error err) {
    rollback();
    return err;
  };
  if (auto failure = forget_cache_if_changed()) return fail(make_error(errc::storage, *failure));
  fold_state at;
  if (read_fold_state(at) != SQLITE_OK) return fail(read_error("the folded mark"));
  to = std::min(to, at.last);
  if (to <= at.folded || fold_blocked_at_ == at.folded) {
    run(q_.rollback);
    return {};
  }
  q_.fold_events.bind(1, to_int64(at.folded));
  q_.fold_events.bind(2, to_int64(to));
  if (run(q_.fold_events) != SQLITE_OK) {
    const auto message = db_.last_error();
    if (auto err = find_duplicate(at.folded, to)) {
      fold_blocked_at_ = at.folded;
      return fail(std::move(err));
    }
    if (!drop_entries_after(at.folded) || run(q_.fold_events) != SQLITE_OK)
      return fail(make_error(errc::storage, "cannot fold journal '" + path_ + "': " + message));
  }
  if (fold_types(at.folded, to) != SQLITE_OK)
    return fail(make_error(errc::storage, "cannot fold journal '" + path_ + "': " + db_.last_error()));
  if (check_gaps)
    if (auto gap = find_gap(at.folded, to)) log(log_level::error, message_of(gap));
  q_.set_folded_mark.bind(1, to_int64(to));
  if (run(q_.set_folded_mark) != SQLITE_OK || run(q_.commit) != SQLITE_OK)
    return fail(make_error(errc::storage, "cannot fold journal '" + path_ + "': " + db_.last_error()));
  folded_ = to;
  return {};
}

// Files the events of positions (from, to] in log_index under their pair of types.
int sqlite_journal::fold_types(std::uint64_t from, std::uint64_t to) {
  q_.fold_by_type.bind(1, to_int64(from));
  q_.fold_by_type.bind(2, to_int64(to));
  return run(q_.fold_by_type);
}

// Entries past the folded mark are left by a mark moved back by hand (the
// fold never writes them): the indexes are a cache, so they go (a scan of each).
bool sqlite_journal::drop_entries_after(std::uint64_t folded) {
  log(log_level::warning, "journal '" + path_ + "': the stream index holds entries past its folded mark (" +
                              std::to_string(folded) + "); dropping them");
  for (const char* sql : {"DELETE FROM stream_index WHERE global_position > ?1",
                          "DELETE FROM log_index WHERE global_position > ?1"}) {
    statement drop;
    if (drop.prepare(db_.get(), sql) != SQLITE_OK) return false;
    drop.bind(1, to_int64(folded));
    if (run(drop) != SQLITE_OK) return false;
  }
  return true;
}

caf::error sqlite_journal::damaged(std::int64_t stream_key, const std::string& what) {
  return make_error(errc::corrupt_event,
                    "journal '" + path_ + "' is damaged: stream '" + describe_stream(stream_key) + "' " + what);
}

// A (stream, version) of positions (from, to] stored twice, there or before.
caf::error sqlite_journal::find_duplicate(std::uint64_t from, std::uint64_t to) {
  statement twice;
  if (twice.prepare(db_.get(),
                    "SELECT stream_key, version, min(global_position), max(global_position) FROM ("
                    " SELECT stream_key, version, global_position FROM events"
                    "  WHERE global_position > ?1 AND global_position <= ?2"
                    " UNION ALL SELECT i.stream_key, i.version, i.global_position FROM stream_index i"
                    "  JOIN events e ON e.stream_key = i.stream_key AND e.version = i.version"
                    "  WHERE e.global_position > ?1 AND e.global_position <= ?2 AND i.global_position <= ?1)"
                    " GROUP BY stream_key, version HAVING count(*) > 1 LIMIT 1") != SQLITE_OK)
    return read_error("the folded events");
  twice.bind(1, to_int64(from));
  twice.bind(2, to_int64(to));
  if (twice.step() != SQLITE_ROW) return {};
  const auto key = twice.column_int64(0);
  auto err = damaged(key, "has version " + std::to_string(twice.column_int64(1)) + " twice, at positions " +
                              std::to_string(twice.column_int64(2)) + " and " + std::to_string(twice.column_int64(3)));
  damaged_streams_[key] = message_of(err);
  return err;
}

// A version of positions (from, to] whose predecessor is missing or later.
caf::error sqlite_journal::find_gap(std::uint64_t from, std::uint64_t to) {
  reset_on_exit guard{q_.find_gap};
  q_.find_gap.bind(1, to_int64(from));
  q_.find_gap.bind(2, to_int64(to));
  if (q_.find_gap.step() != SQLITE_ROW) return {};
  const auto version = q_.find_gap.column_int64(1);
  return damaged(q_.find_gap.column_int64(0),
                 "has version " + std::to_string(version) + " at position " +
                     std::to_string(q_.find_gap.column_int64(2)) +
                     (version < 1 ? "" : " without version " + std::to_string(version - 1) + " before it"));
}

// In the caller's write transaction: empties stream_index and its mark, so
// that the next fold rebuilds it from the events.
caf::error sqlite_journal::rebuild_stream_index(const std::string& why) {
  log(log_level::warning, "journal '" + path_ + "': " + why + "; rebuilding the stream index from the events");
  q_.set_folded_mark.bind(1, 0);
  if (db_.exec("DELETE FROM stream_index; DELETE FROM log_index") != SQLITE_OK || run(q_.set_folded_mark) != SQLITE_OK)
    return open_error();
  return {};
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
