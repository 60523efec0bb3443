// The fold: moves events from the newest spans' index (events_by_span) into
// stream_runs and log_runs (schema.cpp), checking each stream's versions as
// it goes, and moves journal_meta.folded_position behind them.
//
// Why the fold is sized as it is: a stream read seeks each span after the
// mark, so the mark must follow the journal; but each fold rewrites the index
// pages its streams' runs land on, so it should take many events at once.
// maintain() (the writer's idle time) folds once 16 spans are open, append()
// only past 32 (a writer that is never idle); both leave the newest 2 open.
// A read then seeks at most 32 spans (~5 us each when cached).
//
// Why in C++ and not INSERT ... SELECT: the runs are cut, and the versions
// checked, while the events pass by once in memory, at most 16 spans at a
// time; SQLite then writes a row per run instead of a row per event.
#include <interlock/persistence/sqlite/journal_impl.hpp>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/core/log.hpp>
#include <interlock/persistence/sqlite/event_copies.hpp>
#include <interlock/persistence/sqlite/runs.hpp>
#include <interlock/persistence/sqlite/sql_values.hpp>

namespace interlock::sqlite {
namespace {

constexpr std::uint64_t idle_fold_spans = 16;
constexpr std::uint64_t spans_kept_open = 2;
// A fold of more (at open, after an upgrade) goes in transactions of this
// many spans, so that its memory stays bounded (~32 bytes per event); each
// ends at a span's end, so a span's runs are not cut in two.
constexpr std::uint64_t spans_per_fold = 16;
constexpr std::size_t max_indexed_heads = 1 << 20;

// Function objects, not functions: std::sort inlines them (a function pointer
// made the comparisons a tenth of the fold).
struct by_stream_then_version {
  bool operator()(const folded_event& a, const folded_event& b) const {
    if (a.stream_key != b.stream_key) return a.stream_key < b.stream_key;
    if (a.version != b.version) return a.version < b.version;
    return a.position < b.position;
  }
};

struct by_key_then_first {
  bool operator()(const index_run& a, const index_run& b) const {
    return a.key != b.key ? a.key < b.key : a.first < b.first;
  }
};

// A row of fold_scan_copies as log_copies keeps it (no type names).
event_view copied_event(const statement& q, const folded_event& e) {
  event_view v;
  v.position = e.position;
  v.version = e.version;
  v.schema_version = static_cast<std::uint32_t>(q.column_int64(4));
  v.payload = q.column_view(5);
  v.recorded_at_us = q.column_int64(6);
  v.command_id = q.column_view(7);
  v.correlation_id = q.column_view(8);
  v.causation_id = q.column_view(9);
  v.aggregate_id = q.column_view(10);
  return v;
}

}  // namespace

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
  return fold(((newest - spans_kept_open + 1) << span_shift) - 1);
}

// Folds the events up to position `to`, in transactions of at most
// spans_per_fold spans. A (stream, version) stored twice cannot be indexed: the
// fold fails with errc::corrupt_event naming stream, version and positions,
// and is not tried again by this connection while the mark stays (reads stay
// right: they seek more spans, and the readers' version checks stop at the
// duplicate). A gap is logged as an error and indexed as it is; readers stop
// at it. The fold commits without its own fsync: it is a cache, and the next
// append's fsync of the log covers it.
caf::error sqlite_journal::fold(std::uint64_t to) {
  // SQLite takes a new synchronous level only outside a transaction.
  const bool relax = synchronous_ > sync_mode::normal;
  if (relax && run(q_.sync_normal) != SQLITE_OK) return read_error("a synchronous level for the fold");
  caf::error err;
  for (bool done = false; !done && !err;) err = fold_some(to, done);
  if (relax && run(q_.sync_configured) != SQLITE_OK && !err)
    err = make_error(errc::storage, "cannot restore the synchronous level of journal '" + path_ + "': " +
                                        db_.last_error());
  return err;
}

// One transaction of the fold; sets `done` once the mark is at `to` (or
// blocked by a duplicate).
caf::error sqlite_journal::fold_some(std::uint64_t to, bool& done) {
  done = true;
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
  const auto until = std::min(to, ((span_of(at.folded + 1) + spans_per_fold) << span_shift) - 1);
  fold_batch batch;
  bool index_ahead = false;  // entries past the mark: the mark was moved back by hand
  if (auto err = cut_fold(at.folded, until, batch, index_ahead)) return fail(std::move(err));
  if (auto err = index_ahead ? rebuild_stream_index("the stream index holds entries past its folded mark (" +
                                                    std::to_string(at.folded) + ")")
                             : write_fold(batch, until))
    return fail(std::move(err));
  if (run(q_.commit) != SQLITE_OK) return fail(fold_error());
  remember_heads(batch.heads, index_ahead);
  folded_ = index_ahead ? 0 : until;
  done = !index_ahead && until == to;
  return {};
}

// Reads the events of positions (from, until] and cuts their runs.
caf::error sqlite_journal::cut_fold(std::uint64_t from, std::uint64_t until, fold_batch& batch, bool& index_ahead) {
  if (scan_for_fold(from, until, batch) != SQLITE_OK) return fold_error();
  std::sort(batch.events.begin(), batch.events.end(), by_stream_then_version{});
  auto err = cut_stream_runs(batch, index_ahead);
  if (is(err, errc::corrupt_event)) fold_blocked_at_ = from;
  return err;
}

// Writes the batch's runs and moves the mark to `until`.
caf::error sqlite_journal::write_fold(fold_batch& batch, std::uint64_t until) {
  if (insert_runs(batch) != SQLITE_OK) return fold_error();
  q_.set_folded_mark.bind(1, to_int64(until));
  return run(q_.set_folded_mark) == SQLITE_OK ? caf::error{} : fold_error();
}

caf::error sqlite_journal::fold_error() const {
  return make_error(errc::storage, "cannot fold journal '" + path_ + "': " + db_.last_error());
}

// What a committed fold indexed last in each stream, for the next fold's
// check that a stream's runs follow on (a seek per stream saved; the cache
// goes with the stream cache: on a rollback or another connection's commit).
void sqlite_journal::remember_heads(const std::vector<std::pair<std::int64_t, indexed_event>>& heads, bool rebuilt) {
  if (rebuilt || indexed_heads_.size() + heads.size() > max_indexed_heads) indexed_heads_.clear();
  if (rebuilt) return;
  for (const auto& [key, head] : heads) indexed_heads_[key] = head;
}

// The events of positions (from, to], and their runs in log_runs: one per
// pair of types and span, cut as the events pass in position order, with
// their copies if the file keeps them.
int sqlite_journal::scan_for_fold(std::uint64_t from, std::uint64_t to, fold_batch& batch) {
  auto& q = copies_ ? q_.fold_scan_copies : q_.fold_scan;
  reset_on_exit guard{q};
  q.bind(1, to_int64(from));
  q.bind(2, to_int64(to));
  std::unordered_map<std::int64_t, std::size_t> open_runs;  // type key -> its run in this span
  auto span = std::numeric_limits<std::uint64_t>::max();
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    const folded_event e{q.column_int64(1), static_cast<std::uint64_t>(q.column_int64(2)),
                         static_cast<std::uint64_t>(q.column_int64(0)), q.column_int64(3)};
    batch.events.push_back(e);
    if (span_of(e.position) != span) {
      span = span_of(e.position);
      open_runs.clear();
    }
    auto [run, fresh] = open_runs.try_emplace(e.type_key, batch.type_runs.size());
    if (fresh) batch.type_runs.push_back(index_run{e.type_key, e.position, span, {}, {}});
    append_offset(batch.type_runs[run->second].offsets, e.position);
    if (copies_) append_copy(batch.type_runs[run->second].copies, copied_event(q, e));
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// Cuts the sorted events into runs, each stream's first one following on from
// its last folded event. Sets `index_ahead` if an event is indexed already.
caf::error sqlite_journal::cut_stream_runs(fold_batch& batch, bool& index_ahead) {
  const auto& events = batch.events;
  for (std::size_t begin = 0, end = 0; begin < events.size(); begin = end) {
    while (end < events.size() && events[end].stream_key == events[begin].stream_key) ++end;
    const auto key = events[begin].stream_key;
    indexed_event head;
    if (auto known = indexed_heads_.find(key); known != indexed_heads_.end()) head = known->second;
    else if (last_indexed(key, head) != SQLITE_OK)
      return fold_error();
    if (auto err = cut_runs_of_stream(&events[begin], &events[end], head, batch.stream_runs, index_ahead))
      return err;
    if (index_ahead) return {};
    batch.heads.emplace_back(key, head);
  }
  return {};
}

// One stream's events, sorted by version, after its last indexed event
// `head`, which is then its last event.
caf::error sqlite_journal::cut_runs_of_stream(const folded_event* first, const folded_event* last,
                                              indexed_event& head, std::vector<index_run>& out, bool& index_ahead) {
  index_run* run = nullptr;
  for (const auto* e = first; e != last; ++e) {
    std::uint64_t other = 0;  // the position of another event of this version
    if (e->version >= 1 && e->version <= head.version) {
      other = e != first && (e - 1)->version == e->version ? (e - 1)->position : 0;
      if (other == 0 && indexed_position(e->stream_key, e->version, other) != SQLITE_OK) return fold_error();
      if (other == e->position) {
        index_ahead = true;
        return {};
      }
    }
    if (other != 0) {
      auto err = damaged(e->stream_key, "has version " + std::to_string(e->version) + " twice, at positions " +
                                            std::to_string(std::min(other, e->position)) + " and " +
                                            std::to_string(std::max(other, e->position)));
      damaged_streams_[e->stream_key] = message_of(err);
      return err;
    }
    const bool follows = e->version == head.version + 1 && e->position > head.position;
    if (!follows)
      log(log_level::error, message_of(damaged(e->stream_key, "has version " + std::to_string(e->version) +
                                                                  " at position " + std::to_string(e->position) +
                                                                  (e->version < 1 ? "" : " without version " +
                                                                  std::to_string(e->version - 1) + " before it"))));
    if (run == nullptr || !follows || run->span != span_of(e->position)) {
      out.push_back(index_run{e->stream_key, e->version, span_of(e->position), {}, {}});
      run = &out.back();
    }
    append_offset(run->offsets, e->position);
    head = indexed_event{std::max(head.version, e->version), e->position};
  }
  return {};
}

int sqlite_journal::insert_runs(fold_batch& batch) {
  std::sort(batch.type_runs.begin(), batch.type_runs.end(), by_key_then_first{});
  const auto& runs = batch.stream_runs;
  std::size_t i = 0;
  auto bind_run = [&](statement& q, int first_parameter, const index_run& r) {
    q.bind(first_parameter, r.key);
    q.bind(first_parameter + 1, to_int64(r.first));
    q.bind(first_parameter + 2, to_int64(r.span));
    q.bind_blob(first_parameter + 3, r.offsets);
  };
  for (constexpr auto many = static_cast<std::size_t>(events_per_insert); runs.size() - i >= many; i += many) {
    for (std::size_t k = 0; k < many; ++k) bind_run(q_.insert_runs, static_cast<int>(4 * k + 1), runs[i + k]);
    if (int rc = run(q_.insert_runs); rc != SQLITE_OK) return rc;
  }
  for (; i < runs.size(); ++i) {
    bind_run(q_.insert_run, 1, runs[i]);
    if (int rc = run(q_.insert_run); rc != SQLITE_OK) return rc;
  }
  for (const auto& r : batch.type_runs) {
    for (auto* q : {&q_.insert_log_run, &q_.insert_log_copies}) {
      if (q == &q_.insert_log_copies && r.copies.empty()) continue;
      q->bind(1, r.key);
      q->bind(2, to_int64(r.first));
      q->bind_blob(3, q == &q_.insert_log_run ? r.offsets : r.copies);
      if (int rc = run(*q); rc != SQLITE_OK) return rc;
    }
  }
  return SQLITE_OK;
}

// Inside a write transaction: the stream's runs anew from its events up to
// the folded mark (a scan of the positions from its first event).
int sqlite_journal::reindex_stream(const stream_row& stream, std::uint64_t folded) {
  statement drop, scan;
  int rc = drop.prepare(db_.get(), "DELETE FROM stream_runs WHERE stream_key = ?1");
  if (rc != SQLITE_OK) return rc;
  drop.bind(1, stream.key);
  if ((rc = run(drop)) != SQLITE_OK) return rc;
  rc = scan.prepare(db_.get(),
                    "SELECT global_position, version FROM events"
                    " WHERE global_position >= ?2 AND global_position <= ?3 AND stream_key = ?1");
  if (rc != SQLITE_OK) return rc;
  scan.bind(1, stream.key);
  scan.bind(2, to_int64(stream.first_position));
  scan.bind(3, to_int64(folded));
  fold_batch batch;
  while ((rc = scan.step()) == SQLITE_ROW)
    batch.events.push_back(folded_event{stream.key, static_cast<std::uint64_t>(scan.column_int64(1)),
                                        static_cast<std::uint64_t>(scan.column_int64(0)), 0});
  if (rc != SQLITE_DONE) return rc;
  std::sort(batch.events.begin(), batch.events.end(), by_stream_then_version{});
  bool index_ahead = false;
  indexed_heads_.erase(stream.key);
  indexed_event head;
  if (!batch.events.empty() &&
      cut_runs_of_stream(batch.events.data(), batch.events.data() + batch.events.size(), head, batch.stream_runs,
                         index_ahead))
    return SQLITE_CORRUPT;  // a version stored twice: named by the fold that meets it
  return insert_runs(batch);
}

caf::error sqlite_journal::damaged(std::int64_t stream_key, const std::string& what) {
  return make_error(errc::corrupt_event,
                    "journal '" + path_ + "' is damaged: stream '" + describe_stream(stream_key) + "' " + what);
}

// In the caller's write transaction: empties the indexes and their mark, so
// that the next fold rebuilds them from the events.
caf::error sqlite_journal::rebuild_stream_index(const std::string& why) {
  log(log_level::warning, "journal '" + path_ + "': " + why + "; rebuilding the stream index from the events");
  q_.set_folded_mark.bind(1, 0);
  if (db_.exec("DELETE FROM stream_runs; DELETE FROM log_runs; DELETE FROM log_copies") != SQLITE_OK ||
      run(q_.set_folded_mark) != SQLITE_OK)
    return open_error();
  return {};
}

}  // namespace interlock::sqlite
