#include <interlock/actors/aggregate_actor.hpp>

#include <interlock/actors/messages.hpp>

namespace interlock {
namespace {

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

// The reader replays the stream into the instance on its own thread; the
// await keeps commands queued until the state is current.
void recover(self_ptr self) {
  auto& st = self->state;
  auto job = std::make_shared<detail::recovery_job>();
  job->instance = st.instance;
  job->aggregate_type = st.kind->type_name;
  job->aggregate_id = st.id;
  self->request(st.ctx.reader, st.ctx.journal_timeout, recover_atom::value, std::move(job))
      .await([] {},
             [=](caf::error& err) {
               auto& st = self->state;
               st.failure_is_transient = !detail::is_data_error(err);
               st.failure = detail::explain_transport_error(std::move(err), "recovering " + st.kind->type_name + "/" + st.id,
                                                            st.ctx.journal_timeout);
             });
}

// After a failed append the journal may hold more than the state knows
// (a timeout can hide a commit; a conflict means another writer).
void resync(self_ptr self, bool from_scratch) {
  if (from_scratch) self->state.instance = self->state.kind->make(self->state.id, self->state.ctx.snapshots);
  recover(self);
}

caf::result<detail::erased_reply> persist(self_ptr self, detail::erased_command& cmd,
                                          detail::command_outcome outcome) {
  auto& st = self->state;
  auto count = outcome.events.size();
  append_request req{st.kind->type_name, st.id,           st.instance->version(), std::move(outcome.events),
                     cmd.command_id,     cmd.correlation_id, cmd.causation_id,
                     std::move(outcome.snapshot), st.instance->snapshots_kept()};
  auto rp = self->make_response_promise<detail::erased_reply>();
  auto result = std::move(outcome.result);
  self->request(st.ctx.writer, st.ctx.journal_timeout, append_atom::value, std::move(req))
      .await(
          [=](append_result& r) mutable {
            auto& st = self->state;
            if (auto err = st.instance->commit()) {
              rp.deliver(err);  // the events are stored, but this code cannot apply them
              resync(self, true);
              return;
            }
            rp.deliver(detail::erased_reply{st.id, r.last_position, r.last_version, count, result});
          },
          [=](caf::error& err) mutable {
            auto& st = self->state;
            st.instance->rollback();
            rp.deliver(detail::explain_transport_error(std::move(err), "appending to " + st.kind->type_name + "/" + st.id,
                                                       st.ctx.journal_timeout));
            resync(self, false);
          });
  return rp;
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
        auto& st = self->state;
        if (st.failure) {
          // Bad data stays an error until it is fixed; a journal that did not
          // answer gets another chance with a fresh actor on the next command.
          if (st.failure_is_transient) self->quit();
          return st.failure;
        }
        // The caller has given up: do not run it (it would commit unseen).
        if (std::chrono::steady_clock::now() > cmd.deadline)
          return make_error(errc::timeout, "command " + cmd.command_type + " to " + st.kind->type_name + "/" + st.id +
                                               " was not run: its deadline passed while it waited in line");
        auto outcome = st.instance->execute(cmd);
        if (outcome.error) return std::move(outcome.error);
        if (outcome.events.empty())
          return detail::erased_reply{st.id, 0, st.instance->version(), 0, std::move(outcome.result)};
        return persist(self, cmd, std::move(outcome));
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
