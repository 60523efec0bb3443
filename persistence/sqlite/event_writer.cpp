// The SQLite journal's appends: one transaction per batch, a fast path that
// inserts 16 rows a statement, and a slow path that isolates each request in a
// savepoint to find out whose row failed.
#include <interlock/persistence/sqlite/journal_impl.hpp>

#include <sqlite3.h>

#include <interlock/core/errors.hpp>
#include <interlock/core/log.hpp>
#include <interlock/persistence/journal_detail.hpp>
#include <interlock/persistence/sqlite/sql_values.hpp>

namespace interlock::sqlite {
namespace {

// Errors that concern one request's data rather than the database: that
// request is rolled back to its savepoint and the batch goes on.
bool request_local(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_CONSTRAINT || primary == SQLITE_TOOBIG || primary == SQLITE_MISMATCH;
}

// write_batch()'s answer when a request-local error (or a failed multi-row
// insert) means the batch must be redone with one savepoint per request (no
// real failure message is empty).
const std::optional<std::string> needs_isolation{""};
constexpr std::size_t max_cached_streams = 1 << 20;

}  // namespace

std::vector<caf::expected<append_result>> sqlite_journal::append(const std::vector<append_request>& batch) {
  std::vector<caf::expected<append_result>> results;
  results.reserve(batch.size());
  bool any_valid = false;
  for (const auto& req : batch) {
    if (auto err = detail::validate(req)) {  // (an after_previous request after it fails in write_batch)
      results.emplace_back(std::move(err));
    } else {
      results.emplace_back(append_result{});
      any_valid = true;
    }
  }
  // write_batch records each request's fate in chain_ as it goes; a rolled
  // back attempt must not count. (Almost always empty: then nothing to copy.)
  const auto chain_before = chain_.empty() ? detail::append_chain{} : chain_;
  if (!any_valid) {
    for (const auto& req : batch) chain_.record(req, false);
    return results;
  }
  // Fast path: no savepoints, events inserted many rows a statement. A
  // request that hits a request-local error, or a failed insert of the
  // batch's events, sends the batch down the slow path, which isolates each
  // request in a savepoint.
  auto failure = write_batch(batch, results, false);
  if (failure == needs_isolation) {
    rollback();
    chain_ = chain_before;
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (results[i] || !is(results[i].error(), errc::invalid_argument)) results[i] = append_result{};
    failure = write_batch(batch, results, true);
  }
  if (failure) {
    rollback();
    chain_ = chain_before;
    for (const auto& req : batch) chain_.record(req, false);
    // The transaction is gone: no request committed, and conflicts seen inside
    // it are moot. Invalid requests keep their (deterministic) error.
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (results[i] || !is(results[i].error(), errc::invalid_argument))
        results[i] = make_error(errc::storage, "cannot append to '" +
                                                   detail::stream_name(batch[i].aggregate_type,
                                                                       batch[i].aggregate_id) +
                                                   "' in journal '" + path_ + "': " + *failure);
    return results;
  }
  // The batch is committed; a fold that fails now must not fail it.
  if (auto err = fold_if_over(fold_state{*folded_, *last_written_}, busy_fold_spans))
    log(log_level::error, message_of(err));
  return results;
}

// Begins the batch's transaction and brings the cached marks up to date.
std::optional<std::string> sqlite_journal::start_batch() {
  if (run(q_.begin) != SQLITE_OK) return "cannot begin a transaction: " + db_.last_error();
  if (auto failure = forget_cache_if_changed()) return failure;
  // Cleared here, not within the batch: pending events rest on the cache.
  if (streams_.size() >= max_cached_streams) forget_streams();
  if (!last_written_) {
    std::uint64_t last = 0;
    if (read_last_position(last) != SQLITE_OK) return "cannot read the last position: " + db_.last_error();
    last_written_ = last;
  }
  if (!folded_) {
    std::uint64_t folded = 0;
    if (read_folded_mark(folded) != SQLITE_OK) return "cannot read the folded mark: " + db_.last_error();
    folded_ = folded;
  }
  return std::nullopt;
}

// Runs the batch's transaction up to COMMIT. Returns what failed (with
// SQLite's message) if the whole batch must fail.
std::optional<std::string> sqlite_journal::write_batch(const std::vector<append_request>& batch,
                                                       std::vector<caf::expected<append_result>>& results,
                                                       bool isolate) {
  if (auto failure = start_batch()) return failure;
  std::uint64_t next_position = *last_written_ + 1;
  const auto now = detail::now_us();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (results[i] && chain_.broken(batch[i])) results[i] = detail::previous_failed(batch[i]);
    if (results[i])  // else invalid, or its chain is broken
      if (auto failure = append_one(batch[i], next_position, now, results[i], isolate)) return failure;
    chain_.record(batch[i], static_cast<bool>(results[i]));
  }
  // A failed multi-row insert does not say whose row failed: the run with one
  // savepoint per request (and an insert per event) finds out, and names it.
  if (write_pending_events(now) != SQLITE_OK) return needs_isolation;
  if (run(q_.commit) != SQLITE_OK) return "commit failed: " + db_.last_error();
  last_written_ = next_position - 1;
  return std::nullopt;
}

// Appends one request (under its own savepoint if `isolate`). Sets `result` and
// advances `next_position` past its events if it committed; returns a failure
// that must fail the whole batch.
std::optional<std::string> sqlite_journal::append_one(const append_request& req, std::uint64_t& next_position,
                                                      std::int64_t now, caf::expected<append_result>& result,
                                                      bool isolate) {
  auto& stream = cached_stream(req.aggregate_type, req.aggregate_id);
  if (!stream)
    return "cannot read stream '" + detail::stream_name(req.aggregate_type, req.aggregate_id) +
           "': " + db_.last_error();
  if (req.record_command) {  // checked here, in the write transaction, not only by the caller
    auto seen = find_command(req.command_id);
    if (!seen) return "cannot look up command " + req.command_id + ": " + db_.last_error();
    if (*seen) {
      result = detail::command_seen(req);
      return std::nullopt;
    }
  }
  if (stream->version != req.expected_version) {
    result = detail::conflict(req, stream->version);
    return std::nullopt;
  }
  if (isolate && run(q_.savepoint) != SQLITE_OK) return "cannot create a savepoint: " + db_.last_error();
  const auto before = *stream;  // write_request() may set the key of a stream it then fails to create
  const auto landed = detail::landing(req, next_position, now);
  const int rc = write_request(req, *stream, landed, !isolate);
  if (rc == SQLITE_OK) {
    if (isolate && run(q_.release) != SQLITE_OK) return "cannot release a savepoint: " + db_.last_error();
    result = landed;
    next_position += req.events.size();
    stream->version = landed.last_version;
    return std::nullopt;
  }
  if (request_local(rc) && !isolate) return needs_isolation;
  const auto name = detail::stream_name(req.aggregate_type, req.aggregate_id);
  const auto message = db_.last_error();
  if (!request_local(rc)) return "cannot write to stream '" + name + "': " + message;
  // Undo just this request; next_position is not advanced, so the positions
  // of the requests after it stay gapless.
  if (run(q_.rollback_to) != SQLITE_OK || run(q_.release) != SQLITE_OK)
    return "cannot roll back to a savepoint: " + db_.last_error();
  *stream = before;
  result = make_error(errc::storage, "cannot append to '" + name + "' in journal '" + path_ + "': " + message);
  return std::nullopt;
}

// Writes a new stream's row and the events of `req`, landing as `landed` (or,
// if `defer_events`, leaves the events to write_pending_events()), its
// snapshot and its command; the SQLite result code.
int sqlite_journal::write_request(const append_request& req, stream_row& stream, const append_result& landed,
                                  bool defer_events) {
  const auto first_position = landed.first_position;
  const auto now = landed.recorded_at_us;
  // A streams row holds the position of the stream's first event: a recorded
  // command without events makes none (its row names the stream itself).
  if (stream.key == 0 && !req.events.empty()) {
    q_.insert_stream.bind(1, req.aggregate_type);
    q_.insert_stream.bind(2, req.aggregate_id);
    q_.insert_stream.bind(3, to_int64(first_position));
    if (int rc = run(q_.insert_stream); rc != SQLITE_OK) return rc;
    stream.key = sqlite3_last_insert_rowid(db_.get());
    stream.first_position = first_position;
  }
  for (std::size_t i = 0; i < req.events.size(); ++i) {
    std::int64_t type_key = 0;
    if (int rc = type_key_of(req.aggregate_type, req.events[i].type, type_key); rc != SQLITE_OK) return rc;
    const pending_event row{&req, &req.events[i], stream.key, first_position + i, req.expected_version + 1 + i,
                            type_key};
    if (defer_events) {
      pending_.push_back(row);
      continue;
    }
    bind_event(q_.insert_event, 0, row, now);
    if (int rc = run(q_.insert_event); rc != SQLITE_OK) return rc;
  }
  if (req.snapshot)
    if (int rc = write_snapshot(stream.key, *req.snapshot, req.keep_snapshots, now); rc != SQLITE_OK) return rc;
  return req.record_command ? write_command(req, landed) : SQLITE_OK;
}

// Binds `row` to the parameters first_parameter + 1 .. + columns_per_event.
void sqlite_journal::bind_event(statement& q, int first_parameter, const pending_event& row, std::int64_t now) const {
  const auto& req = *row.request;
  const int p = first_parameter;
  q.bind(p + 1, to_int64(row.position));
  q.bind(p + 2, row.stream_key);
  q.bind(p + 3, to_int64(row.version));
  q.bind(p + 4, row.event->type);
  q.bind(p + 5, static_cast<std::int64_t>(row.event->schema_version));
  q.bind(p + 6, row.event->payload);
  q.bind(p + 7, now);
  q.bind_or_null(p + 8, req.command_id);
  // A correlation id equal to the command id is stored as NULL, none beside a
  // command id as '' (see schema.cpp).
  if (req.correlation_id == req.command_id) q.bind_or_null(p + 9, {});
  else q.bind(p + 9, std::string_view{req.correlation_id});
  q.bind_or_null(p + 10, req.causation_id);
  q.bind(p + 11, row.type_key);
}

// The key of a pair of aggregate type and event type; a pair new to the file
// is added in this transaction.
int sqlite_journal::type_key_of(const std::string& aggregate_type, const std::string& event_type, std::int64_t& out) {
  if (last_pair_.key != 0 && last_pair_.event_type == event_type && last_pair_.aggregate_type == aggregate_type) {
    out = last_pair_.key;
    return SQLITE_OK;
  }
  auto name = aggregate_type;
  name.append(1, '\x1f').append(event_type);
  auto known = type_keys_.find(name);
  if (known == type_keys_.end()) {
    std::int64_t key = 0;
    {
      reset_on_exit guard{q_.find_type_key};
      q_.find_type_key.bind(1, aggregate_type);
      q_.find_type_key.bind(2, event_type);
      const int rc = q_.find_type_key.step();
      if (rc == SQLITE_ROW) key = q_.find_type_key.column_int64(0);
      else if (rc != SQLITE_DONE) return rc;
    }
    if (key == 0) {
      q_.insert_type_key.bind(1, aggregate_type);
      q_.insert_type_key.bind(2, event_type);
      if (int rc = run(q_.insert_type_key); rc != SQLITE_OK) return rc;
      key = sqlite3_last_insert_rowid(db_.get());
    }
    known = type_keys_.emplace(std::move(name), key).first;
  }
  last_pair_ = {aggregate_type, event_type, known->second};
  out = known->second;
  return SQLITE_OK;
}

// Inserts the pending events, events_per_insert rows a statement and the rest
// one by one; the SQLite result code. Nothing stays pending either way.
int sqlite_journal::write_pending_events(std::int64_t now) {
  std::size_t i = 0;
  int rc = SQLITE_OK;
  for (; rc == SQLITE_OK && i + events_per_insert <= pending_.size(); i += events_per_insert) {
    for (int r = 0; r < events_per_insert; ++r)
      bind_event(q_.insert_events, r * columns_per_event, pending_[i + r], now);
    rc = run(q_.insert_events);
  }
  for (; rc == SQLITE_OK && i < pending_.size(); ++i) {
    bind_event(q_.insert_event, 0, pending_[i], now);
    rc = run(q_.insert_event);
  }
  pending_.clear();
  return rc;
}

// The command's row: its stream by name, as it may have no events and so no
// streams row (schema.cpp), and a refusal as its errc and message.
int sqlite_journal::write_command(const append_request& req, const append_result& landed) {
  auto& q = q_.insert_command;
  q.bind(1, req.command_id);
  q.bind(2, req.command_type);
  q.bind(3, req.aggregate_type);
  q.bind(4, req.aggregate_id);
  q.bind(5, to_int64(landed.first_position));
  q.bind(6, to_int64(landed.last_position));
  q.bind(7, to_int64(landed.last_version));
  q.bind(8, req.result_json);
  // validate() let only interlock errors through. message_of() is not for an
  // empty error (CAF 0.17's context() of one dereferences null); the message
  // is bound without a copy, so it must outlive run().
  const auto code = code_of(req.refusal);
  const auto message = code ? message_of(req.refusal) : std::string{};
  if (code) {
    q.bind(9, static_cast<std::int64_t>(*code));
    q.bind(10, message);
  } else {
    q.bind_null(9);
    q.bind_null(10);
  }
  return run(q);
}

int sqlite_journal::write_snapshot(std::int64_t stream_key, const snapshot_record& snap, std::size_t keep,
                                   std::int64_t now) {
  auto& q = q_.insert_snapshot;
  q.bind(1, stream_key);
  q.bind(2, to_int64(snap.version));
  q.bind(3, static_cast<std::int64_t>(snap.state_version));
  q.bind(4, snap.state);
  q.bind(5, now);
  if (int rc = run(q); rc != SQLITE_OK) return rc;
  q_.trim_snapshots.bind(1, stream_key);
  q_.trim_snapshots.bind(2, to_int64(keep));
  return run(q_.trim_snapshots);
}

void sqlite_journal::rollback() {
  pending_.clear();
  forget_streams();  // it may hold versions of the rolled-back transaction
  last_written_.reset();
  folded_.reset();
  // SQLite rolls back by itself after some errors (e.g. SQLITE_FULL).
  if (db_.in_transaction()) run(q_.rollback);
}

void sqlite_journal::forget_streams() {
  streams_.clear();
  indexed_heads_.clear();
  type_keys_.clear();
  last_pair_.key = 0;
}

std::optional<std::string> sqlite_journal::forget_cache_if_changed() {
  reset_on_exit guard{q_.data_version};
  if (q_.data_version.step() != SQLITE_ROW) return "cannot read the data version: " + db_.last_error();
  const auto version = q_.data_version.column_int64(0);
  if (version != seen_data_version_) {
    forget_streams();
    last_written_.reset();
    folded_.reset();
  }
  seen_data_version_ = version;
  return std::nullopt;
}

// The stream's row as of this transaction; nullopt (not cached) if it could not be read.
std::optional<stream_row>& sqlite_journal::cached_stream(const std::string& aggregate_type,
                                                        const std::string& aggregate_id) {
  auto [it, fresh] = streams_.try_emplace(aggregate_type + '\x1f' + aggregate_id);
  if (fresh || !it->second) {
    stream_row row;
    if (find_stream(aggregate_type, aggregate_id, row, fold_state{*folded_, *last_written_}) == SQLITE_OK)
      it->second = row;
  }
  return it->second;
}

}  // namespace interlock::sqlite
