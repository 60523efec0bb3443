// The PostgreSQL journal's appends: a batch in one transaction of two round
// trips. The first locks the counter row and reads, under that lock, the
// versions of the batch's streams and which of its command ids are recorded;
// the requests are then decided here as the other journals decide them; the
// second round trip writes the accepted ones as one pipeline (events,
// snapshots, commands: a statement each, rows as unnested arrays) and
// commits. While a batch holds the counter row no other writer can change
// what it read, so the checks hold at commit, also against other processes.
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
  auto state = lock_and_read(batch, results);
  if (!state) return std::move(state.error());
  const auto now = detail::now_us();
  decide(batch, *state, now, results);
  auto done = db_.run(writes(batch, results, *state, now), options_.timeout);
  if (done) return {};
  // A statement the server refused rolled the batch back. A connection that
  // broke or went silent may have taken the COMMIT with it: say so.
  if (db_.usable()) return std::move(done.error());
  return make_error(errc::storage, message_of(done.error()) +
                                       "; the batch may have committed (its COMMIT went unanswered)");
}

// Round trip 1: BEGIN, the counter row locked (READ COMMITTED: each statement
// after it reads what was committed before the lock was granted), the
// versions of the batch's streams and its command ids already recorded.
caf::expected<batch_state> postgres_journal::lock_and_read(const std::vector<append_request>& batch,
                                                           const std::vector<caf::expected<append_result>>& results) {
  array_literal types, ids, commands;
  std::unordered_set<std::string> asked;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]) continue;
    const auto& req = batch[i];
    if (asked.insert(stream_key(req.aggregate_type, req.aggregate_id)).second) {
      types.add(req.aggregate_type);
      ids.add(req.aggregate_id);
    }
    if (req.record_command) commands.add(req.command_id);
  }
  std::vector<query> look;
  look.push_back({"BEGIN"});
  look.push_back({q_.lock_head});
  look.push_back({q_.stream_versions, params{}.text(types.str()).text(ids.str())});
  look.push_back({q_.commands_seen, params{}.text(commands.str())});
  auto seen = db_.run(look, options_.timeout);
  if (!seen) return std::move(seen.error());
  const auto& head = (*seen)[1];
  if (head.rows() != 1)
    return make_error(errc::storage, db_.server() + ": journal_head of schema '" + options_.schema +
                                         "' holds no counter row");
  batch_state state;
  state.last_position = static_cast<std::uint64_t>(head.int64(0, 0));
  const auto& versions = (*seen)[2];
  for (int r = 0; r < versions.rows(); ++r)
    state.versions[std::string{versions.text(r, 0)} + '\0' + std::string{versions.text(r, 1)}] =
        static_cast<std::uint64_t>(versions.int64(r, 2));
  const auto& recorded = (*seen)[3];
  for (int r = 0; r < recorded.rows(); ++r) state.commands_seen.emplace(recorded.text(r, 0));
  return state;
}

// Decides each valid request in batch order, as the other journals do: a
// broken chain, a command recorded before, a stream not at its expected
// version fail it alone; the others land at the next positions.
void postgres_journal::decide(const std::vector<append_request>& batch, batch_state& state, std::int64_t now,
                              std::vector<caf::expected<append_result>>& results) {
  auto next_position = state.last_position + 1;
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
        results[i] = detail::landing(req, next_position, now);
        next_position += req.events.size();
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
