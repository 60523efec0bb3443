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

// What versions_ and keys_ say of the batch's streams and event types, as
// of its counter value; nullopt if they do not know one of them (a new
// stream or type needs a key handed out under the lock) or a request
// records a command.
std::optional<batch_state> postgres_journal::known_state(const std::vector<append_request>& batch,
                                                         const std::vector<caf::expected<append_result>>& results) const {
  const auto head = versions_.head();
  if (!head) return std::nullopt;
  batch_state state;
  state.last_position = *head;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    if (batch[i].record_command) return std::nullopt;
    auto names = names_key(batch[i].aggregate_type, batch[i].aggregate_id);
    const auto* version = versions_.find(names);
    const auto* key = keys_.stream(names);
    if (!version || !key) return std::nullopt;
    for (const auto& e : batch[i].events) {
      auto type = names_key(batch[i].aggregate_type, e.type);
      const auto* type_key = keys_.type(type);
      if (!type_key) return std::nullopt;
      state.type_keys.emplace(std::move(type), *type_key);
    }
    state.stream_keys.emplace(names, *key);
    state.versions.emplace(std::move(names), *version);
  }
  return state;
}

// What a batch's writes came to: versions_ keeps the versions it left, or
// forgets everything when it failed (it may or may not have committed).
caf::error postgres_journal::committed(caf::expected<std::vector<result>> done, const batch_state& state) {
  if (done) {
    versions_.keep(state.next_position - 1, state.versions);
    keys_.keep(state.stream_keys, state.type_keys);
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

// Streams whose keys and versions one statement reads ($1 types, $2 ids).
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

// Event types whose keys one statement reads ($1 aggregate types, $2 event types).
struct type_list {
  array_literal aggregate_types, event_types;
  std::unordered_set<std::string> asked;

  void add(const std::string& aggregate_type, const std::string& event_type, std::string key) {
    if (!asked.insert(std::move(key)).second) return;
    aggregate_types.add(aggregate_type);
    event_types.add(event_type);
  }
  query keys(const statements& q) const {
    return {q.type_keys, params{}.text(aggregate_types.str()).text(event_types.str())};
  }
};

// Rows of (type, id, key or NULL, version).
void read_versions(const result& rows, batch_state& state) {
  for (int r = 0; r < rows.rows(); ++r) {
    auto names = names_key(std::string{rows.text(r, 0)}, std::string{rows.text(r, 1)});
    if (!rows.is_null(r, 2)) state.stream_keys[names] = rows.int64(r, 2);
    state.versions[std::move(names)] = static_cast<std::uint64_t>(rows.int64(r, 3));
  }
}

// Rows of (aggregate type, event type, key).
void read_type_keys(const result& rows, batch_state& state) {
  for (int r = 0; r < rows.rows(); ++r)
    state.type_keys[names_key(std::string{rows.text(r, 0)}, std::string{rows.text(r, 1)})] = rows.int64(r, 2);
}

}  // namespace

// Round trip 1: BEGIN, the counter row locked (READ COMMITTED: each statement
// after it reads what was committed before the lock was granted), the keys
// and versions of the batch's streams that versions_ and keys_ do not hold,
// which of its command ids are recorded, the keys of its event types that
// keys_ does not hold, and, if any of those has none yet, the highest keys
// handed out. versions_ is trusted only if the counter is where it left it;
// else another connection appended since, and the versions it held for this
// batch are read again under the lock (one more round trip, only then).
caf::expected<batch_state> postgres_journal::lock_and_read(const std::vector<append_request>& batch,
                                                           const std::vector<caf::expected<append_result>>& results) {
  stream_list unknown, cached;
  type_list types;
  array_literal commands;
  std::unordered_set<std::string> asked;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    const auto& req = batch[i];
    if (auto key = names_key(req.aggregate_type, req.aggregate_id); asked.insert(key).second) {
      const bool known = versions_.find(key) && keys_.stream(key);
      (known ? cached : unknown).add(req, std::move(key));
    }
    for (const auto& e : req.events)
      if (auto type = names_key(req.aggregate_type, e.type); !keys_.type(type))
        types.add(req.aggregate_type, e.type, std::move(type));
    if (req.record_command) commands.add(req.command_id);
  }
  std::vector<query> look;
  look.push_back({"BEGIN"});
  look.push_back({q_.lock_head});
  const auto at_versions = look.size();
  if (!unknown.keys.empty()) look.push_back(unknown.versions(q_));
  const auto at_commands = look.size();
  if (commands.size() > 0) look.push_back({q_.commands_seen, params{}.text(commands.str())});
  const auto at_types = look.size();
  if (types.aggregate_types.size() > 0) look.push_back(types.keys(q_));
  const auto at_last_keys = look.size();
  if (!unknown.keys.empty() || types.aggregate_types.size() > 0) look.push_back({q_.last_keys});
  auto seen = db_.run(look, options_.timeout);
  if (!seen) return std::move(seen.error());
  const auto& head = (*seen)[1];
  if (head.rows() != 1)
    return make_error(errc::storage, db_.server() + ": journal_head of schema '" + options_.schema +
                                         "' holds no counter row");
  batch_state state;
  state.last_position = static_cast<std::uint64_t>(head.int64(0, 0));
  if (at_commands > at_versions) read_versions((*seen)[at_versions], state);
  if (at_types > at_commands) {
    const auto& recorded = (*seen)[at_commands];
    for (int r = 0; r < recorded.rows(); ++r) state.commands_seen.emplace(recorded.text(r, 0));
  }
  if (at_last_keys > at_types) read_type_keys((*seen)[at_types], state);
  if (seen->size() > at_last_keys) {
    state.last_stream_key = (*seen)[at_last_keys].int64(0, 0);
    state.last_type_key = (*seen)[at_last_keys].int64(0, 1);
  }
  for (const auto& [type, key] : types_known(batch, results)) state.type_keys.emplace(type, key);
  for (const auto& key : cached.keys) state.stream_keys[key] = *keys_.stream(key);
  if (versions_.valid_at(state.last_position)) {
    for (const auto& key : cached.keys) state.versions[key] = *versions_.find(key);
    return state;
  }
  versions_.forget();
  if (cached.keys.empty()) return state;
  auto again = db_.run_one(cached.versions(q_), options_.timeout);
  if (!again) return std::move(again.error());
  read_versions(*again, state);
  return state;
}

// The keys keys_ holds of the batch's event types.
key_map postgres_journal::types_known(const std::vector<append_request>& batch,
                                      const std::vector<caf::expected<append_result>>& results) const {
  key_map known;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    for (const auto& e : batch[i].events)
      if (auto type = names_key(batch[i].aggregate_type, e.type); const auto* key = keys_.type(type))
        known.emplace(std::move(type), *key);
  }
  return known;
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
      auto& version = state.versions[names_key(req.aggregate_type, req.aggregate_id)];
      if (req.record_command && state.commands_seen.count(req.command_id)) {
        results[i] = detail::command_seen(req);
      } else if (version != req.expected_version) {
        results[i] = detail::conflict(req, version);
      } else {
        results[i] = detail::landing(req, state.next_position, now);
        state.next_position += req.events.size();
        hand_out_keys(req, state);
        version = results[i]->last_version;
        if (req.record_command) state.commands_seen.insert(req.command_id);
      }
    }
    chain_.record(req, static_cast<bool>(results[i]));
  }
}

// Keys for an accepted request's stream and event types that have none yet:
// the next ones after the highest handed out (lock_and_read() read those
// whenever one of them had no key).
void postgres_journal::hand_out_keys(const append_request& req, batch_state& state) {
  if (req.events.empty()) return;
  if (auto names = names_key(req.aggregate_type, req.aggregate_id); !state.stream_keys.count(names)) {
    state.stream_keys.emplace(std::move(names), ++state.last_stream_key);
    state.new_streams.push_back({state.last_stream_key, &req.aggregate_type, &req.aggregate_id});
  }
  for (const auto& e : req.events)
    if (auto type = names_key(req.aggregate_type, e.type); !state.type_keys.count(type)) {
      state.type_keys.emplace(std::move(type), ++state.last_type_key);
      state.new_types.push_back({state.last_type_key, &req.aggregate_type, &e.type});
    }
}

namespace {

// The events statement's parameters: the counter's move, then one array per column.
params event_rows(const std::vector<append_request>& batch, const std::vector<caf::expected<append_result>>& results,
                  const batch_state& state, std::int64_t now) {
  array_literal k, v, tk, sv, p, c, co, ca;
  std::int64_t count = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    const auto& req = batch[i];
    const auto stream = req.events.empty() ? 0 : state.stream_keys.at(names_key(req.aggregate_type, req.aggregate_id));
    for (std::size_t e = 0; e < req.events.size(); ++e, ++count) {
      k.add(stream);
      v.add(static_cast<std::int64_t>(req.expected_version + 1 + e));
      tk.add(state.type_keys.at(names_key(req.aggregate_type, req.events[e].type)));
      sv.add(static_cast<std::int64_t>(req.events[e].schema_version));
      p.add(req.events[e].payload);
      c.add(req.command_id);
      if (req.correlation_id == req.command_id) co.add_null();  // schema.cpp: NULL is the command id
      else co.add(req.correlation_id);
      ca.add(req.causation_id);
    }
  }
  params out;
  out.int64(count).int64(static_cast<std::int64_t>(state.last_position)).int64(now);
  for (auto* a : {&k, &v, &tk, &sv, &p, &c, &co, &ca}) out.text(a->str());
  return out;
}

// The rows of the keys a batch hands out ($1 keys, $2 and $3 the names).
params new_keys(const std::vector<batch_state::new_key>& keys) {
  array_literal key, first, second;
  for (const auto& k : keys) key.add(k.key), first.add(*k.first), second.add(*k.second);
  return params{}.text(key.str()).text(first.str()).text(second.str());
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
  if (!state.new_streams.empty()) out.push_back({q_.insert_streams, new_keys(state.new_streams)});
  if (!state.new_types.empty()) out.push_back({q_.insert_types, new_keys(state.new_types)});
  if (events) out.push_back({q_.insert_events, event_rows(batch, results, state, now)});
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
