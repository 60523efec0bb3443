// The PostgreSQL journal's appends: a batch in one transaction of two round
// trips. The first locks the counter row and reads, under that lock, the
// versions of the batch's streams and which of its command ids are recorded;
// the requests are then decided here as the other journals decide them; the
// second round trip writes the accepted ones as one pipeline (events,
// snapshots, commands: a statement each, rows as unnested arrays) and
// commits. While a batch holds the counter row no other writer can change
// what it read, so the checks hold at commit, also against other processes.
// The connection keeps the versions its batches left (version_cache.hpp): the
// first round trip reads only the others, and a batch whose streams it all
// knows may take the short way, one round trip (write_known()).
#include <interlock/persistence/postgres/journal_impl.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal_detail.hpp>

namespace interlock::postgres {

std::vector<caf::expected<append_result>> postgres_journal::append(const std::vector<append_request>& batch) {
  std::vector<caf::expected<append_result>> results;
  results.reserve(batch.size());
  std::size_t valid = 0;
  for (const auto& req : batch) {
    if (auto err = detail::validate(req)) {
      results.emplace_back(std::move(err));
    } else {
      results.emplace_back(append_result{});
      ++valid;
    }
  }
  const bool any_valid = valid > 0;
  // decide() records each request's fate in chain_; a batch that fails as a
  // whole must not count. (Almost always empty: then nothing to copy.)
  const auto chain_before = chain_.empty() ? detail::append_chain{} : chain_;
  auto failure = any_valid ? write_batch(batch, results) : caf::error{};
  if (failure && valid > 1 && refused_data()) {
    abandon();
    chain_ = chain_before;
    return one_by_one(batch);
  }
  if (!any_valid || failure) {
    chain_ = chain_before;
    for (const auto& req : batch) chain_.record(req, false);
  }
  if (!failure) return results;
  abandon();
  // Nothing committed: conflicts seen inside the transaction are moot.
  // Invalid requests keep their (deterministic) error.
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (results[i] || !is(results[i].error(), errc::invalid_argument))
      results[i] = make_error(errc::storage, "cannot append to '" +
                                                 detail::stream_name(batch[i].aggregate_type, batch[i].aggregate_id) +
                                                 "' in journal schema '" + options_.schema + "': " + message_of(failure));
  return results;
}

// Whether the server refused a value or a constraint (SQLSTATE class 22, data
// exception, or 23, integrity constraint violation): something of one
// request's rows, the connection still fine.
bool postgres_journal::refused_data() const {
  const auto& state = db_.last_sqlstate();
  return db_.usable() && (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0);
}

// The error does not say which request the server refused: each is tried in a
// transaction of its own, in batch order, so that only that one fails (as on
// SQLite) and the others land as they would have.
std::vector<caf::expected<append_result>> postgres_journal::one_by_one(const std::vector<append_request>& batch) {
  std::vector<caf::expected<append_result>> results;
  results.reserve(batch.size());
  for (const auto& req : batch) results.push_back(std::move(append({req}).front()));
  return results;
}

// A transaction left open by a failure is rolled back (a broken connection
// has none left: the server rolled it back when it went).
void postgres_journal::abandon() {
  if (db_.in_transaction()) db_.run_one({"ROLLBACK"}, options_.timeout);
}

caf::error postgres_journal::write_batch(const std::vector<append_request>& batch,
                                         std::vector<caf::expected<append_result>>& results) {
  if (auto err = ready()) return err;
  if (auto written = write_known(batch, results)) return std::move(*written);
  auto state = lock_and_read(batch, results);
  if (!state) return std::move(state.error());
  const auto now = detail::now_us();
  decide(batch, *state, now, results);
  return committed(db_.run(writes(batch, results, *state, now), options_.timeout), *state);
}

// The short way, one round trip: when versions_ holds every stream of the
// batch and no request records a command (the ledger must be read), the
// batch is decided on those versions and written at once. It takes the
// counter row's lock without waiting (a batch that waited with its COMMIT
// already sent could commit long after it timed out), and its events'
// statement lands only if the counter is where versions_ left it; else
// (another connection appended since) its positions are NULL, which the
// primary key refuses. Either way the batch is rolled back and undone
// here: nullopt, go the long way. nullopt also
// when there is nothing to insert, so nothing would check the counter. With
// other connections appending to the schema the short way would mostly miss
// and cost a round trip more: after a miss it rests for a while.
std::optional<caf::error> postgres_journal::write_known(const std::vector<append_request>& batch,
                                                        std::vector<caf::expected<append_result>>& results) {
  constexpr int rest_after_miss = 100;  // batches
  constexpr const char* not_null_violation = "23502";  // the counter moved
  constexpr const char* lock_not_available = "55P03";  // another holds the counter row
  if (short_way_rests_ > 0) {
    --short_way_rests_;
    return std::nullopt;
  }
  auto state = known_state(batch, results);
  if (!state) return std::nullopt;
  const auto undecided = results;  // placeholders and validation errors: cheap to copy
  const auto chain = chain_;       // almost always empty
  const auto undo = [&] {
    results = undecided;
    chain_ = chain;
    return std::nullopt;
  };
  const auto now = detail::now_us();
  decide(batch, *state, now, results);
  if (state->next_position == state->last_position + 1) return undo();
  auto pipeline = writes(batch, results, *state, now);
  pipeline.insert(pipeline.begin(), {query{"BEGIN"}, query{q_.lock_head_now}});
  auto error = committed(db_.run(pipeline, options_.timeout), *state);
  const auto missed = db_.last_sqlstate() == not_null_violation || db_.last_sqlstate() == lock_not_available;
  if (error && db_.usable() && missed) {
    abandon();
    short_way_rests_ = rest_after_miss;
    return undo();
  }
  return error;
}

// What versions_ says of the batch's streams, as of its counter value; nullopt
// if it does not know one of them or a request records a command.
std::optional<batch_state> postgres_journal::known_state(const std::vector<append_request>& batch,
                                                         const std::vector<caf::expected<append_result>>& results) const {
  const auto head = versions_.head();
  if (!head) return std::nullopt;
  batch_state state;
  state.last_position = *head;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    if (batch[i].record_command) return std::nullopt;
    auto key = stream_key(batch[i].aggregate_type, batch[i].aggregate_id);
    const auto* version = versions_.find(key);
    if (!version) return std::nullopt;
    state.versions.emplace(std::move(key), *version);
  }
  return state;
}

// What a batch's writes came to: versions_ keeps the versions it left, or
// forgets everything when it failed (it may or may not have committed).
caf::error postgres_journal::committed(caf::expected<std::vector<result>> done, const batch_state& state) {
  if (done) {
    versions_.keep(state.next_position - 1, state.versions);
    return {};
  }
  versions_.forget();
  // A statement the server refused rolled the batch back. A connection that
  // broke or went silent may have taken the COMMIT with it: say so.
  if (db_.usable()) return std::move(done.error());
  return make_error(errc::storage, message_of(done.error()) +
                                       "; the batch may have committed (its COMMIT went unanswered)");
}

namespace {

// Streams whose versions one statement reads ($1 types, $2 ids).
struct stream_list {
  array_literal types, ids;
  std::vector<std::string> keys;

  void add(const append_request& req, std::string key) {
    types.add(req.aggregate_type);
    ids.add(req.aggregate_id);
    keys.push_back(std::move(key));
  }
  query versions(const statements& q) const { return {q.stream_versions, params{}.text(types.str()).text(ids.str())}; }
};

void read_versions(const result& rows, std::unordered_map<std::string, std::uint64_t>& out) {
  for (int r = 0; r < rows.rows(); ++r)
    out[std::string{rows.text(r, 0)} + '\0' + std::string{rows.text(r, 1)}] = static_cast<std::uint64_t>(rows.int64(r, 2));
}

}  // namespace

// Round trip 1: BEGIN, the counter row locked (READ COMMITTED: each statement
// after it reads what was committed before the lock was granted), the
// versions of the batch's streams that versions_ does not hold, and which of
// its command ids are recorded. versions_ is trusted only if the counter is
// where it left it; else another connection appended since, and the
// versions it held for this batch are read again under the lock (one more
// round trip, only then).
caf::expected<batch_state> postgres_journal::lock_and_read(const std::vector<append_request>& batch,
                                                           const std::vector<caf::expected<append_result>>& results) {
  stream_list unknown, cached;
  array_literal commands;
  std::unordered_set<std::string> asked;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    const auto& req = batch[i];
    if (auto key = stream_key(req.aggregate_type, req.aggregate_id); asked.insert(key).second)
      (versions_.find(key) ? cached : unknown).add(req, std::move(key));
    if (req.record_command) commands.add(req.command_id);
  }
  std::vector<query> look;
  look.push_back({"BEGIN"});
  look.push_back({q_.lock_head});
  if (!unknown.keys.empty()) look.push_back(unknown.versions(q_));
  if (commands.size() > 0) look.push_back({q_.commands_seen, params{}.text(commands.str())});
  auto seen = db_.run(look, options_.timeout);
  if (!seen) return std::move(seen.error());
  const auto& head = (*seen)[1];
  if (head.rows() != 1)
    return make_error(errc::storage, db_.server() + ": journal_head of schema '" + options_.schema +
                                         "' holds no counter row");
  batch_state state;
  state.last_position = static_cast<std::uint64_t>(head.int64(0, 0));
  if (!unknown.keys.empty()) read_versions((*seen)[2], state.versions);
  if (commands.size() > 0) {
    const auto& recorded = seen->back();
    for (int r = 0; r < recorded.rows(); ++r) state.commands_seen.emplace(recorded.text(r, 0));
  }
  if (versions_.valid_at(state.last_position)) {
    for (const auto& key : cached.keys) state.versions[key] = *versions_.find(key);
    return state;
  }
  versions_.forget();
  if (cached.keys.empty()) return state;
  auto again = db_.run_one(cached.versions(q_), options_.timeout);
  if (!again) return std::move(again.error());
  read_versions(*again, state.versions);
  return state;
}

// Decides each valid request in batch order, as the other journals do: a
// broken chain, a command recorded before, a stream not at its expected
// version fail it alone; the others land at the next positions.
void postgres_journal::decide(const std::vector<append_request>& batch, batch_state& state, std::int64_t now,
                              std::vector<caf::expected<append_result>>& results) {
  state.next_position = state.last_position + 1;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& req = batch[i];
    if (results[i] && chain_.broken(req)) results[i] = detail::previous_failed(req);
    if (results[i]) {
      auto& version = state.versions[stream_key(req.aggregate_type, req.aggregate_id)];
      if (req.record_command && state.commands_seen.count(req.command_id)) {
        results[i] = detail::command_seen(req);
      } else if (version != req.expected_version) {
        results[i] = detail::conflict(req, version);
      } else {
        results[i] = detail::landing(req, state.next_position, now);
        state.next_position += req.events.size();
        version = results[i]->last_version;
        if (req.record_command) state.commands_seen.insert(req.command_id);
      }
    }
    chain_.record(req, static_cast<bool>(results[i]));
  }
}

namespace {

// The events statement's parameters: the counter's move, then one array per column.
params event_rows(const std::vector<append_request>& batch, const std::vector<caf::expected<append_result>>& results,
                  std::uint64_t last_position, std::int64_t now) {
  array_literal t, id, v, et, sv, p, c, co, ca;
  std::int64_t count = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    const auto& req = batch[i];
    for (std::size_t e = 0; e < req.events.size(); ++e, ++count) {
      t.add(req.aggregate_type);
      id.add(req.aggregate_id);
      v.add(static_cast<std::int64_t>(req.expected_version + 1 + e));
      et.add(req.events[e].type);
      sv.add(static_cast<std::int64_t>(req.events[e].schema_version));
      p.add(req.events[e].payload);
      c.add(req.command_id);
      co.add(req.correlation_id);
      ca.add(req.causation_id);
    }
  }
  params out;
  out.int64(count).int64(static_cast<std::int64_t>(last_position)).int64(now);
  for (auto* a : {&t, &id, &v, &et, &sv, &p, &c, &co, &ca}) out.text(a->str());
  return out;
}

}  // namespace

// Round trip 2: the accepted requests' rows, a statement per table, and COMMIT.
std::vector<query> postgres_journal::writes(const std::vector<append_request>& batch,
                                            const std::vector<caf::expected<append_result>>& results,
                                            const batch_state& state, std::int64_t now) const {
  std::vector<query> out;
  bool events = false;
  array_literal st, si, sv, ssv, sstate, kt, ki, keep;
  array_literal cid, ctype, ct, ci, cfirst, clast, cver, cres, ccode, cmsg;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    const auto& req = batch[i];
    events = events || !req.events.empty();
    if (req.snapshot) {
      st.add(req.aggregate_type), si.add(req.aggregate_id), sv.add(static_cast<std::int64_t>(req.snapshot->version));
      ssv.add(static_cast<std::int64_t>(req.snapshot->state_version)), sstate.add(req.snapshot->state);
      kt.add(req.aggregate_type), ki.add(req.aggregate_id), keep.add(to_bigint(req.keep_snapshots));
    }
    if (req.record_command) {
      const auto& res = *results[i];
      cid.add(req.command_id), ctype.add(req.command_type), ct.add(req.aggregate_type), ci.add(req.aggregate_id);
      cfirst.add(static_cast<std::int64_t>(res.first_position)), clast.add(static_cast<std::int64_t>(res.last_position));
      cver.add(static_cast<std::int64_t>(res.last_version)), cres.add(req.result_json);
      // validate() let only interlock errors through; message_of() is not for an empty one.
      if (const auto code = code_of(req.refusal)) {
        ccode.add(static_cast<std::int64_t>(*code));
        cmsg.add(message_of(req.refusal));
      } else {
        ccode.add_null();
        cmsg.add_null();
      }
    }
  }
  if (events) out.push_back({q_.insert_events, event_rows(batch, results, state.last_position, now)});
  if (events) out.push_back({q_.notify_head});  // other processes' projections (head_watch.cpp)
  if (st.size() > 0) {
    out.push_back({q_.insert_snapshots,
                   params{}.int64(now).text(st.str()).text(si.str()).text(sv.str()).text(ssv.str()).text(sstate.str())});
    out.push_back({q_.trim_snapshots, params{}.text(kt.str()).text(ki.str()).text(keep.str())});
  }
  if (cid.size() > 0) {
    params p;
    for (auto* a : {&cid, &ctype, &ct, &ci, &cfirst, &clast, &cver, &cres, &ccode, &cmsg}) p.text(a->str());
    out.push_back({q_.insert_commands, std::move(p)});
  }
  out.push_back({"COMMIT"});
  return out;
}

}  // namespace interlock::postgres
