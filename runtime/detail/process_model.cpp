// process_model_base: what every processor and saga does with the read
// store's tables (model/process_instance.hpp), compiled once.
#include <interlock/runtime/detail/process_model.hpp>

#include <interlock/core/log.hpp>
#include <interlock/persistence/read_db.hpp>
#include <interlock/runtime/context.hpp>
#include <interlock/runtime/detail/model_errors.hpp>

namespace interlock::detail {

void process_core::record_dispatch(caf::expected<std::string> body, std::string_view command_type,
                                   std::string aggregate_id) {
  if (!body) {
    if (!refused_) refused_ = std::move(body.error());
    return;
  }
  decided_.push_back({std::string{command_type}, std::move(aggregate_id), std::move(*body)});
}

caf::error outbox_decode_error(std::string_view command_type) {
  return exception_error(errc::corrupt_event,
                         "a command " + std::string{command_type} + " stored in the outbox does not decode");
}

caf::error process_handler_error(std::string_view process, std::string_view handler) {
  return exception_error(errc::rejected, std::string{process} + "::" + std::string{handler} + "() threw");
}

namespace {

// Why the runtime's tables and not the user's: a step's state, its commands
// and the checkpoint of the events it came from must commit together, and
// the read store's transaction is the one they share.
// Both dialects (read_db.hpp): 64-bit integers are BIGINT (PostgreSQL's
// INTEGER has 32 bits), and the outbox's key is each database's own way of
// never giving an id twice.
constexpr const char* create_state = R"sql(
CREATE TABLE IF NOT EXISTS interlock_saga_state (
  saga TEXT NOT NULL,
  key TEXT NOT NULL,      -- the conversation (correlation) id
  state TEXT NOT NULL,    -- the saga object's JSON
  deadline_us BIGINT,     -- when deadline_passed() runs, µs since the Unix epoch (UTC); NULL: none
  deadline_step TEXT,     -- the step that set it: its commands' ids derive from it
  PRIMARY KEY (saga, key)))sql";
// Commands decided and stored, not yet answered; id is the order they were
// decided in. An id is never used again (SQLite's AUTOINCREMENT, a
// PostgreSQL identity), so the driver, which knows rows by id, cannot take a
// new row for one it is still finishing.
constexpr const char* outbox_columns = R"sql(
  process TEXT NOT NULL,
  key TEXT NOT NULL,
  command_id TEXT NOT NULL UNIQUE,
  command_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  body TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  causation_id TEXT NOT NULL))sql";
std::string create_outbox(sql_dialect dialect) {
  return std::string{"CREATE TABLE IF NOT EXISTS interlock_outbox (\n  id "}
      .append(dialect == sql_dialect::postgresql ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                                                 : "INTEGER PRIMARY KEY AUTOINCREMENT,")
      .append(outbox_columns);
}
constexpr const char* create_outbox_index =
    "CREATE INDEX IF NOT EXISTS interlock_outbox_by_process ON interlock_outbox (process, id)";

std::int64_t wall_clock_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

caf::error sql_failure(std::string_view process, const sql_error& ex) {
  return make_error(ex.storage_failure() ? errc::storage : errc::corrupt_event,
                    "process " + std::string{process} + ": " + ex.what());
}

void clear(process_core& self) {
  process_access::decided(self).clear();
  process_access::refused(self) = caf::error{};
  process_access::deadline(self).reset();
  process_access::completed(self) = false;
}

}  // namespace

/// One step: what it runs on and how its commands are named.
struct process_model_base::step {
  std::string key;          // the saga instance ("" for a processor)
  std::string id_prefix;    // its commands' ids are "<id_prefix>:<n>"
  std::string correlation;  // its commands'
  std::string causation;
  std::int64_t now_us = 0;  // a deadline it sets is this much later: an event's time (so a step decided again
                            // sets the same one), else the wall clock
  bool may_open = false;                       // a saga's start(): may open the conversation
  std::optional<std::int64_t> only_if_due_at;  // a deadline's step: runs only if it is still set to this
  bool exists = false;                         // the conversation was open before the step
  std::optional<std::int64_t> deadline;        // the conversation's before the step
  std::string deadline_step;                   // the id prefix of the step that set it
};

caf::error process_model_base::apply(const event_view& e, event_envelope& env) {
  auto it = info_->consumers.find(e.event_type);
  if (it == info_->consumers.end()) return {};
  fill_envelope(e, env);
  // An upcaster may split a stored event: each part is a step of its own at the same position.
  const auto part = e.position == applied_position_ ? ++part_ : (part_ = 0);
  applied_position_ = e.position;
  step s;
  s.id_prefix = std::string{info_->type_name} + ":" + std::to_string(e.position) +
                (part == 0 ? std::string{} : "." + std::to_string(part));
  s.now_us = env.recorded_at_us;
  s.causation = event_cause_id(env);
  s.correlation = env.correlation_id.empty() ? env.command_id : env.correlation_id;
  if (info_->is_saga) {
    auto key = it->second.key ? it->second.key(e, env) : caf::expected<std::string>{s.correlation};
    if (!key) return std::move(key.error());
    if (key->empty()) {
      log(log_level::warning, "saga " + std::string{info_->type_name} + ": " + describe_event(e) +
                                  " belongs to no conversation (an empty id): passed over");
      return {};
    }
    s.key = std::move(*key);
    s.may_open = it->second.starts;
  }
  const auto fn = it->second.fn;
  return run_step(s, [&](process_core& self) { return fn(self, e, env); });
}

caf::error process_model_base::run_step(step& s, const std::function<caf::error(process_core&)>& handler) {
  try {
    auto& self = fresh();
    clear(self);
    if (info_->is_saga) {
      auto row = db_->rows<std::string, std::optional<std::int64_t>, std::string>(
          "SELECT state, deadline_us, deadline_step FROM interlock_saga_state WHERE saga = ? AND key = ?",
          info_->type_name, s.key);
      if (row.empty() && !s.may_open) return {};
      if (!row.empty()) {
        s.exists = true;
        s.deadline = std::get<1>(row[0]);
        s.deadline_step = std::get<2>(row[0]);
        if (s.only_if_due_at) s.id_prefix = s.deadline_step + ":deadline";
        if (s.only_if_due_at && s.deadline != s.only_if_due_at) return {};  // moved or cancelled since
        if (auto err = read_state(std::get<0>(row[0]))) return err;
      }
      if (s.only_if_due_at) process_access::deadline(self) = std::chrono::milliseconds{0};  // it has come
    }
    process_access::key(self) = s.key;
    auto err = handler(self);
    if (auto& refused = process_access::refused(self)) err = std::move(refused);  // the first thing that went wrong
    if (err) {
      clear(self);
      return err;
    }
    return store_decisions(s, self);
  } catch (const sql_error& ex) {
    return sql_failure(info_->type_name, ex);
  }
}

caf::error process_model_base::store_decisions(step& s, process_core& self) {
  auto commands = std::move(process_access::decided(self));
  process_access::decided(self).clear();
  if (auto err = store_commands(s, std::move(commands))) return err;
  return info_->is_saga ? store_state(s, self) : caf::error{};
}

// A command id already in the outbox (a rebuild deciding again) is not
// stored twice: the one stored is sent, or was.
caf::error process_model_base::store_commands(const step& s, std::vector<decided_command> commands) {
  for (std::size_t n = 0; n < commands.size(); ++n) {
    auto& c = commands[n];
    outbox_row row{0, s.key, s.id_prefix + ":" + std::to_string(n), std::move(c.command_type),
                   std::move(c.aggregate_id), std::move(c.body), s.correlation, s.causation};
    if (info_->is_saga) row.correlation_id = s.key;
    const auto added = db_->value<std::int64_t>(
        "INSERT INTO interlock_outbox (process, key, command_id, command_type, aggregate_id, body, "
        "correlation_id, causation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        info_->type_name, row.key, row.command_id, row.command_type, row.aggregate_id, row.body, row.correlation_id,
        row.causation_id);
    if (!added) {  // decided again: it must be the same command
      auto stored = db_->value<std::string>("SELECT body FROM interlock_outbox WHERE command_id = ?", row.command_id);
      if (stored && *stored != row.body)
        return make_error(errc::corrupt_event, "process " + std::string{info_->type_name} + ": command id " +
                                                   row.command_id + " is in the outbox with another command");
      continue;
    }
    row.id = *added;
    news_.commands.push_back(std::move(row));
  }
  return {};
}

caf::error process_model_base::store_state(step& s, process_core& self) {
  const auto set = std::exchange(process_access::deadline(self), std::nullopt);
  if (std::exchange(process_access::completed(self), false)) {
    if (s.exists) db_->exec("DELETE FROM interlock_saga_state WHERE saga = ? AND key = ?", info_->type_name, s.key);
    if (s.deadline) news_.deadlines.push_back({s.key, 0});
    return {};
  }
  auto due = s.deadline;
  auto due_step = s.deadline_step;
  if (set) {
    const auto now = s.now_us != 0 ? s.now_us : wall_clock_us();
    due = set->count() == 0 ? std::nullopt : std::optional{now + set->count() * 1000};
    due_step = due ? s.id_prefix : std::string{};
  }
  auto state = write_state();
  if (!state) return std::move(state.error());
  db_->exec(
      "INSERT INTO interlock_saga_state (saga, key, state, deadline_us, deadline_step) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (saga, key) DO UPDATE SET state = excluded.state, deadline_us = excluded.deadline_us, "
      "deadline_step = excluded.deadline_step",
      info_->type_name, s.key, *state, due, due_step);
  if (due != s.deadline) news_.deadlines.push_back({s.key, due.value_or(0)});
  return {};
}

query_outcome process_model_base::answer(const erased_query& q) {
  return {make_error(errc::unknown_query, std::string{info_->type_name} + " answers no queries, not " + q.query_type),
          nullptr};
}

caf::error process_model_base::create_tables() {
  try {
    db_->exec(create_state);
    db_->exec(create_outbox(db_->dialect()));
    db_->exec(create_outbox_index);
    return {};
  } catch (const sql_error& ex) {
    return sql_failure(info_->type_name, ex);
  }
}

// A rebuild decides every step again: the commands keep their ids, so the
// idempotency ledger answers those that ran with their first outcome.
caf::error process_model_base::reset_tables() {
  try {
    db_->exec("DELETE FROM interlock_saga_state WHERE saga = ?", info_->type_name);
    db_->exec("DELETE FROM interlock_outbox WHERE process = ?", info_->type_name);
    return {};
  } catch (const sql_error& ex) {
    return sql_failure(info_->type_name, ex);
  }
}

caf::expected<std::string> process_model_base::snapshot() const { return not_snapshottable_error(info_->type_name); }

void process_model_base::transaction_ended(bool committed) {
  applied_position_ = part_ = 0;
  auto news = std::exchange(news_, process_news{});
  if (!committed || (news.commands.empty() && news.deadlines.empty())) return;
  if (link_ && link_->publish) link_->publish(std::make_shared<const process_news>(std::move(news)));
}

caf::error process_model_base::commands_done(const std::vector<std::int64_t>& ids) {
  try {
    for (auto id : ids) db_->exec("DELETE FROM interlock_outbox WHERE id = ?", id);
    return {};
  } catch (const sql_error& ex) {
    return sql_failure(info_->type_name, ex);
  }
}

caf::error process_model_base::command_refused(const outbox_row& row, const std::string& reason) {
  try {
    if (db_->exec("DELETE FROM interlock_outbox WHERE id = ?", row.id) == 0) return {};  // handled before (a reset)
  } catch (const sql_error& ex) {
    return sql_failure(info_->type_name, ex);
  }
  const auto what = std::string{info_->is_saga ? "saga " : "processor "}.append(info_->type_name) + ": command " +
                    row.command_type + " (" + row.command_id + ") to " + row.aggregate_id + " was refused: " + reason;
  auto handler = info_->refusals.find(row.command_type);
  if (handler == info_->refusals.end()) {
    log(log_level::warning, what + (info_->is_saga ? "; the saga has no rejected() for it" : ""));
    return {};
  }
  log(log_level::info, what);
  step s;
  s.key = row.key;
  s.id_prefix = row.command_id + ":rejected";
  s.causation = "command:" + row.command_id;
  s.correlation = row.key;
  const auto fn = handler->second;
  return run_step(s, [&](process_core& self) { return fn(self, row.body, reason); });
}

caf::error process_model_base::deadline_due(const std::string& key, std::int64_t due_us, std::int64_t seen_id,
                                            bool& held_back) {
  try {
    held_back = db_->value<std::int64_t>("SELECT 1 FROM interlock_outbox WHERE process = ? AND key = ? AND id > ?",
                                         info_->type_name, key, seen_id)
                    .has_value();
  } catch (const sql_error& ex) {
    return sql_failure(info_->type_name, ex);
  }
  if (held_back) return {};
  step s;
  s.key = key;  // the id prefix is the setting step's, read with the state
  s.causation = "deadline:" + std::to_string(due_us);
  s.correlation = key;
  s.only_if_due_at = due_us;
  return run_step(s, [&](process_core& self) { return deadline_passed(self); });
}

caf::error process_model_base::publish_pending() {
  if (auto err = create_tables()) return err;
  try {
    for (auto& [id, key, command_id, type, aggregate_id, body, correlation, causation] :
         db_->rows<std::int64_t, std::string, std::string, std::string, std::string, std::string, std::string,
                   std::string>("SELECT id, key, command_id, command_type, aggregate_id, body, correlation_id, "
                                "causation_id FROM interlock_outbox WHERE process = ? ORDER BY id",
                                info_->type_name))
      news_.commands.push_back({id, key, command_id, type, aggregate_id, body, correlation, causation});
    for (auto& [key, due] : db_->rows<std::string, std::int64_t>(
             "SELECT key, deadline_us FROM interlock_saga_state WHERE saga = ? AND deadline_us IS NOT NULL",
             info_->type_name))
      news_.deadlines.push_back({key, due});
    return {};
  } catch (const sql_error& ex) {
    return sql_failure(info_->type_name, ex);
  }
}

bool process_model_base::has_conversation(const std::string& key) {
  return db_->value<std::int64_t>("SELECT 1 FROM interlock_saga_state WHERE saga = ? AND key = ?", info_->type_name,
                                  key)
      .has_value();
}

caf::expected<process_type_info::decoded> process_model_base::decode_command(const outbox_row& row) const {
  auto it = info_->commands.find(row.command_type);
  if (it == info_->commands.end())
    return make_error(errc::unknown_command, std::string{info_->type_name} + " lists no command " + row.command_type +
                                                 " in its `commands` (the outbox holds one: " + row.command_id + ")");
  return it->second(row.body);
}

}  // namespace interlock::detail
