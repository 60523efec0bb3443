#include <interlock/actors/aggregate_actor.hpp>

#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

using command_ptr = std::shared_ptr<const detail::erased_command>;

struct aggregate_state {
  std::shared_ptr<const detail::aggregate_kind> kind;
  std::string id;
  aggregate_context ctx;
  std::shared_ptr<detail::aggregate_instance> instance;  // shared with the reader while it recovers
  caf::error failure;        // recovery failed: commands get this error
  bool failure_is_transient = false;  // the journal did not answer: retry with a fresh actor
  static inline const char* name = "interlock.aggregate";
};

using self_ptr = caf::stateful_actor<aggregate_state>*;

std::string stream_of(self_ptr self) { return self->state.kind->type_name + "/" + self->state.id; }

// The reader loads snapshot + stream into the instance on its own thread; the
// await keeps commands queued until the state is current. `then` runs after
// a successful load (a command waiting to be rerun).
void recover(self_ptr self, std::function<void()> then = {}) {
  auto& st = self->state;
  auto job = std::make_shared<detail::recovery_job>();
  job->instance = st.instance;
  job->aggregate_type = st.kind->type_name;
  job->aggregate_id = st.id;
  self->request(st.ctx.reader, st.ctx.journal_timeout, recover_atom::value, std::move(job))
      .await(
          [=] {
            if (then) then();
          },
          [=](caf::error& err) {
            auto& st = self->state;
            st.failure_is_transient = !detail::is_data_error(err);
            st.failure = detail::explain_transport_error(std::move(err), "recovering " + stream_of(self),
                                                         st.ctx.journal_timeout);
            if (then) then();  // the command then gets the failure
          });
}

void run_command(self_ptr self, command_ptr cmd, caf::response_promise rp, std::size_t retries_left);

// After a conflict another writer has appended to the stream: reload the
// tail and run the command again on the new state.
void rerun_after_conflict(self_ptr self, command_ptr cmd, caf::response_promise rp, std::size_t retries_left) {
  self->state.instance->rollback();
  recover(self, [=]() mutable { run_command(self, cmd, rp, retries_left - 1); });
}

void persist(self_ptr self, command_ptr cmd, detail::command_outcome outcome, caf::response_promise rp,
             std::size_t retries_left) {
  auto& st = self->state;
  auto count = outcome.events.size();
  append_request req{st.kind->type_name,          st.id,
                     st.instance->version(),       std::move(outcome.events),
                     cmd->command_id,              cmd->correlation_id,
                     cmd->causation_id,            std::move(outcome.snapshot),
                     st.instance->snapshots_kept(), cmd->idempotent,
                     std::move(outcome.result_json)};
  auto result = std::move(outcome.result);
  // No timeout: the writer answers every append it takes (or CAF bounces it
  // if the writer is gone), and abandoning an append could not undo it anyway.
  // The caller's own command timeout bounds its wait.
  self->request(st.ctx.writer, caf::infinite, append_atom::value, std::move(req))
      .await(
          [=](append_result& r) mutable {
            auto& st = self->state;
            if (auto err = st.instance->commit()) {
              rp.deliver(err);  // the events are stored, but this code cannot apply them
              st.instance = st.kind->make(st.id, st.ctx.snapshots);
              recover(self);
              return;
            }
            rp.deliver(detail::erased_reply{st.id, r.last_position, r.last_version, count, result});
          },
          [=](caf::error& err) mutable {
            auto& st = self->state;
            const bool conflict = is(err, errc::conflict) && !cmd->idempotent;
            if (conflict && retries_left > 0) return rerun_after_conflict(self, cmd, rp, retries_left);
            // An idempotent command conflicts when its id was committed meanwhile
            // (a concurrent retry): the recorded outcome is the answer.
            if (is(err, errc::conflict) && cmd->idempotent) {
              st.instance->rollback();
              recover(self, [=]() mutable { run_command(self, cmd, rp, 0); });
              return;
            }
            st.instance->rollback();
            rp.deliver(detail::explain_transport_error(std::move(err), "appending to " + stream_of(self),
                                                       st.ctx.journal_timeout));
            recover(self);  // a timeout may hide a commit; a conflict means another writer
          });
}

void execute(self_ptr self, command_ptr cmd, caf::response_promise rp, std::size_t retries_left) {
  auto& st = self->state;
  auto outcome = st.instance->execute(*cmd);
  if (outcome.error) return void(rp.deliver(std::move(outcome.error)));
  if (outcome.events.empty())
    return void(rp.deliver(detail::erased_reply{st.id, 0, st.instance->version(), 0, std::move(outcome.result)}));
  persist(self, std::move(cmd), std::move(outcome), std::move(rp), retries_left);
}

// The first outcome of a command retried with the same id.
void reply_recorded(self_ptr self, const detail::erased_command& cmd, const command_record& rec,
                    caf::response_promise& rp) {
  auto& st = self->state;
  if (rec.aggregate_type != st.kind->type_name || rec.aggregate_id != st.id)
    return void(rp.deliver(make_error(errc::invalid_argument,
                                      "command id " + cmd.command_id + " was already used for a command to " +
                                          rec.aggregate_type + "/" + rec.aggregate_id + ", not " + stream_of(self))));
  auto result = st.instance->decode_result(cmd.command_type, rec.result_json);
  if (!result) return void(rp.deliver(std::move(result.error())));
  rp.deliver(detail::erased_reply{st.id, rec.last_position, rec.last_version,
                                  static_cast<std::size_t>(rec.last_position - rec.first_position + 1), *result});
}

// An idempotency key: look it up first (the journal may hold it from before a
// restart); run the command only if it was never committed.
void run_idempotent(self_ptr self, command_ptr cmd, caf::response_promise rp, std::size_t retries_left) {
  auto& st = self->state;
  self->request(st.ctx.reader, st.ctx.journal_timeout, find_command_atom::value, cmd->command_id)
      .await(
          [=](command_record& rec) mutable {
            if (!rec.aggregate_type.empty()) return reply_recorded(self, *cmd, rec, rp);
            execute(self, cmd, rp, retries_left);
          },
          [=](caf::error& err) mutable {
            rp.deliver(detail::explain_transport_error(std::move(err), "looking up command " + cmd->command_id,
                                                       self->state.ctx.journal_timeout));
          });
}

void run_command(self_ptr self, command_ptr cmd, caf::response_promise rp, std::size_t retries_left) {
  auto& st = self->state;
  if (st.failure) {
    // Bad data stays an error until it is fixed; a journal that did not
    // answer gets another chance with a fresh actor on the next command.
    if (st.failure_is_transient) self->quit();
    return void(rp.deliver(st.failure));
  }
  // The caller has given up: do not run it (it would commit unseen).
  if (std::chrono::steady_clock::now() > cmd->deadline)
    return void(rp.deliver(make_error(errc::timeout, "command " + cmd->command_type + " to " + stream_of(self) +
                                                         " was not run: its deadline passed while it waited in line")));
  if (cmd->idempotent) return run_idempotent(self, std::move(cmd), std::move(rp), retries_left);
  execute(self, std::move(cmd), std::move(rp), retries_left);
}

caf::behavior aggregate_actor(self_ptr self, std::shared_ptr<const detail::aggregate_kind> kind, std::string id,
                              aggregate_context ctx) {
  auto& st = self->state;
  st.kind = std::move(kind);
  st.id = std::move(id);
  st.ctx = std::move(ctx);
  st.instance = st.kind->make(st.id, st.ctx.snapshots);
  recover(self);
  return {
      [=](detail::erased_command& cmd) -> caf::result<detail::erased_reply> {
        auto rp = self->make_response_promise();
        run_command(self, std::make_shared<const detail::erased_command>(std::move(cmd)), rp,
                    self->state.ctx.conflict_retries);
        return rp;
      },
      [=](passivate_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_aggregate_actor(caf::local_actor* parent, std::shared_ptr<const detail::aggregate_kind> kind,
                                 std::string id, aggregate_context ctx) {
  return parent->spawn(aggregate_actor, std::move(kind), std::move(id), std::move(ctx));
}

}  // namespace interlock
