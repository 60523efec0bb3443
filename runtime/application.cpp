#include <interlock/runtime/application.hpp>

#include <set>
#include <tuple>

#include <interlock/actors/messages.hpp>
#include <interlock/core/detail/utf8.hpp>
#include <interlock/runtime/detail/app_core.hpp>
#include <interlock/runtime/detail/blocking_call.hpp>

namespace interlock {

application::application(std::shared_ptr<detail::app_core> core) : core_(std::move(core)) {}
application::application(application&&) noexcept = default;
application& application::operator=(application&&) noexcept = default;
application::~application() = default;

detail::erased_command application::make_command(std::string command_type, const std::type_info& type,
                                                 std::string aggregate_id, std::shared_ptr<const void> body,
                                                 dispatch_options opts) const {
  detail::erased_command cmd;
  if (core_)
    if (auto it = core_->command_routes.find(command_type); it != core_->command_routes.end())
      cmd.aggregate_type = it->second;
  cmd.body_type = &type;
  cmd.deadline = std::chrono::steady_clock::now() + opts.timeout;
  cmd.command_type = std::move(command_type);
  cmd.aggregate_id = std::move(aggregate_id);
  cmd.body = std::move(body);
  cmd.idempotent = !opts.command_id.empty();
  cmd.command_id = cmd.idempotent ? std::move(opts.command_id) : new_id();
  cmd.correlation_id = opts.correlation_id.empty() ? cmd.command_id : std::move(opts.correlation_id);
  cmd.causation_id = std::move(opts.causation_id);
  return cmd;
}

namespace {
caf::error stopped_error() { return make_error(errc::unavailable, "the application is stopped"); }
}  // namespace

void application::submit(detail::erased_command cmd, std::chrono::milliseconds timeout, command_callback done) const {
  if (!core_ || core_->stopped()) return done(stopped_error());
  if (timeout.count() <= 0) return done(make_error(errc::invalid_argument, "dispatch timeout must be positive"));
  if (cmd.aggregate_type.empty())
    return done(make_error(errc::unknown_command, "no registered aggregate handles command " + cmd.command_type));
  if (auto err = detail::check_ids(cmd)) return done(std::move(err));
  auto what = detail::describe_command(cmd);
  auto guarded = std::make_shared<detail::reply_once<detail::erased_reply>>(
      std::move(done), what + ": the application stopped before the reply arrived; the command may or may not "
                              "have been committed");
  caf::anon_send(core_->client, detail::command_job{std::move(cmd), timeout, std::move(guarded)});
}

void application::ask(detail::erased_query q, query_callback done) const {
  if (!core_ || core_->stopped()) return done(stopped_error());
  if (q.timeout.count() <= 0) return done(make_error(errc::invalid_argument, "query timeout must be positive"));
  auto target = projection_for(q.query_type);
  if (!target) return done(std::move(target.error()));
  auto guarded = std::make_shared<detail::reply_once<detail::erased_answer>>(
      std::move(done), "query " + q.query_type + ": the application stopped before the answer arrived");
  caf::anon_send(core_->client, detail::query_job{std::move(q), std::move(*target), std::move(guarded)});
}

namespace {

// Calls `start(callback)` and waits for the callback's value.
template <class Reply, class Start>
caf::expected<Reply> wait_for(Start start) {
  auto done = std::make_shared<std::promise<caf::expected<Reply>>>();
  auto reply = done->get_future();
  start([done](caf::expected<Reply> r) { done->set_value(std::move(r)); });
  return reply.get();
}

}  // namespace

caf::expected<detail::erased_reply> application::dispatch_and_wait(detail::erased_command cmd,
                                                                   std::chrono::milliseconds timeout) const {
  return wait_for<detail::erased_reply>([&](auto done) { submit(std::move(cmd), timeout, std::move(done)); });
}

caf::expected<detail::erased_answer> application::ask_and_wait(detail::erased_query q) const {
  return wait_for<detail::erased_answer>([&](auto done) { ask(std::move(q), std::move(done)); });
}

caf::error application::refuse_blocking(const char* call, const char* async_form) {
  return detail::refuse_on_scheduler_thread(
      call, std::string{"from an actor use interlock::"} + async_form +
                "(self, app, ...) (interlock/runtime/actor_api.hpp), which answers with a message");
}

// Asks projection `projection_type` to do `what` (a message it answers with
// unit or an error), waiting for the answer.
caf::error application::control(const std::string& projection_type, const char* call, const std::string& doing,
                                caf::message what, bool unbounded) {
  if (auto err = detail::refuse_on_scheduler_thread(call, "call it from a thread of your own")) return err;
  if (!core_ || core_->stopped()) return stopped_error();
  auto it = core_->projections.find(projection_type);
  if (it == core_->projections.end())
    return make_error(errc::invalid_argument, "no projection " + projection_type + " is registered");
  caf::scoped_actor self{*core_->sys};
  caf::error result;
  // A rebuild answers once its new read model is in place, however long the
  // journal: waited for without a bound (a stopped projection answers with an error).
  const auto timeout = unbounded ? caf::duration{caf::infinite} : caf::duration{core_->settings.journal_timeout};
  self->request(it->second, timeout, std::move(what))
      .receive([] {}, [&](caf::error& err) {
        result = detail::explain_transport_error(std::move(err), doing + " " + projection_type,
                                                 core_->settings.journal_timeout);
      });
  return result;
}

caf::error application::rebuild(const std::string& projection_type) {
  return control(projection_type, "rebuild()", "rebuilding", caf::make_message(rebuild_atom::value), true);
}

caf::error application::replay_parked(const std::string& projection_type, std::uint64_t position) {
  return control(projection_type, "replay_parked()", "replaying a parked event of",
                 caf::make_message(replay_parked_atom::value, position));
}

caf::expected<std::vector<parked_event>> application::parked_events(const std::string& projection_type) const {
  if (auto err = detail::refuse_on_scheduler_thread("parked_events()", "call it from a thread of your own")) return err;
  if (!core_ || core_->stopped()) return stopped_error();
  if (!core_->projections.count(projection_type))
    return make_error(errc::invalid_argument, "no projection " + projection_type + " is registered");
  caf::scoped_actor self{*core_->sys};
  caf::expected<std::vector<parked_event>> result{std::vector<parked_event>{}};
  self->request(core_->store, core_->settings.journal_timeout, parked_atom::value, projection_type)
      .receive([&](std::vector<parked_event>& all) { result = std::move(all); },
               [&](caf::error& err) {
                 result = detail::explain_transport_error(std::move(err), "listing the parked events of " +
                                                                              projection_type,
                                                          core_->settings.journal_timeout);
               });
  return result;
}

caf::error application::pause(const std::string& projection_type) {
  return control(projection_type, "pause()", "pausing", caf::make_message(pause_atom::value));
}

caf::error application::resume(const std::string& projection_type) {
  return control(projection_type, "resume()", "resuming", caf::make_message(resume_atom::value));
}

caf::error application::reset(const std::string& projection_type, std::uint64_t position) {
  return control(projection_type, "reset()", "resetting", caf::make_message(reset_atom::value, position));
}

detail::snapshot_settings application::snapshot_defaults() const {
  if (!core_) return {};
  return {core_->settings.snapshot_every, core_->settings.snapshot_keep};
}

caf::expected<std::optional<event_envelope>> application::load(std::shared_ptr<detail::aggregate_instance> instance,
                                                                const std::string& aggregate_type,
                                                                const std::string& aggregate_id, as_of bound) const {
  if (auto err = detail::refuse_on_scheduler_thread("load_as_of()", "call it from a thread of your own")) return err;
  if (!core_ || core_->stopped()) return stopped_error();
  if (!core_->aggregate_types.count(aggregate_type))
    return make_error(errc::invalid_argument, "no aggregate type " + aggregate_type + " is registered");
  if (aggregate_id.empty()) return make_error(errc::invalid_argument, "load_as_of: the aggregate id is empty");
  if (!detail::is_identifier(aggregate_id))
    return make_error(errc::invalid_argument, "load_as_of: " + detail::identifier_problem("aggregate_id", aggregate_id));
  auto job = std::make_shared<detail::recovery_job>();
  job->instance = std::move(instance);
  job->aggregate_type = aggregate_type;
  job->aggregate_id = aggregate_id;
  job->max_version = bound.max_version;
  job->max_recorded_at_us = bound.max_recorded_at_us;
  job->keep_last = true;
  caf::scoped_actor self{*core_->sys};
  caf::error failure;
  self->request(core_->reader, core_->settings.journal_timeout, recover_atom::value, job)
      .receive([] {}, [&](caf::error& err) {
        job->abandoned.store(true);  // if the reader is still at it (a timeout): stop at the next chunk
        failure = detail::explain_transport_error(std::move(err), "loading " + aggregate_type + "/" + aggregate_id,
                                                  core_->settings.journal_timeout);
      });
  if (failure) return failure;
  return std::move(job->last);
}

caf::expected<std::size_t> application::live_aggregates() const {
  if (auto err = detail::refuse_on_scheduler_thread("live_aggregates()", "call it from a thread of your own"))
    return err;
  if (!core_ || core_->stopped()) return stopped_error();
  caf::scoped_actor self{*core_->sys};
  caf::expected<std::size_t> result{std::size_t{0}};
  self->request(core_->router, core_->settings.journal_timeout, live_atom::value)
      .receive([&](std::size_t n) { result = n; },
               [&](caf::error& err) {
                 result = detail::explain_transport_error(std::move(err), "counting live aggregates",
                                                          core_->settings.journal_timeout);
               });
  return result;
}

caf::expected<std::vector<projection_status>> application::status() const {
  if (!core_ || core_->stopped()) return stopped_error();
  using clock = std::chrono::steady_clock;
  const auto now_ns = clock::now().time_since_epoch().count();
  std::vector<projection_status> out;
  for (auto& [name, p] : core_->progress) {
    projection_status s;
    s.name = name;
    s.state = p->rebuilding.load() ? projection_status::phase::rebuilding
                                   : static_cast<projection_status::phase>(p->state.load());
    s.position = p->position.load();
    const auto head = p->head.load();
    s.lag_events = head > s.position ? head - s.position : 0;
    const auto head_us = p->head_recorded_us.load(), last_us = p->last_recorded_us.load();
    if (s.lag_events > 0 && head_us > 0 && last_us > 0 && head_us > last_us) s.lag_seconds = (head_us - last_us) / 1e6;
    const double elapsed = (now_ns - p->started_ns.load()) / 1e9;
    if (elapsed > 0) s.events_per_s = static_cast<double>(p->applied.load()) / elapsed;
    s.waiting_queries = p->waiting_queries.load();
    s.checkpoint = p->checkpoint.load();
    s.parked = p->parked.load();
    s.failure = p->failure();
    out.push_back(std::move(s));
  }
  return out;
}

void application::stop() {
  if (core_) core_->stop();
}

caf::actor_system& application::system() const { return *core_->sys; }

caf::actor application::router() const { return core_ ? core_->router : caf::actor{}; }
detail::aggregate_directory* application::directory() const { return core_ ? core_->directory.get() : nullptr; }

void application::watch_reply(std::shared_ptr<detail::reply_watch> w, caf::strong_actor_ptr requester,
                              caf::message_id id) const {
  core_->deadlines->watch(std::move(w), std::move(requester), id);
}

caf::expected<caf::actor> application::projection_for(const std::string& query_type) const {
  if (!core_ || core_->stopped()) return stopped_error();
  auto it = core_->query_routes.find(query_type);
  if (it == core_->query_routes.end())
    return make_error(errc::unknown_query, "no registered projection answers query " + query_type);
  return it->second;
}

std::chrono::milliseconds application::journal_timeout() const {
  return core_ ? core_->settings.journal_timeout : std::chrono::milliseconds{0};
}

namespace detail {

caf::error check_ids(const erased_command& cmd) {
  if (cmd.aggregate_id.empty())
    return make_error(errc::invalid_argument, "command " + cmd.command_type + " has an empty aggregate id");
  for (auto [label, id, may_be_empty] : {std::tuple{"aggregate_id", &cmd.aggregate_id, false},
                                         std::tuple{"command_id", &cmd.command_id, true},
                                         std::tuple{"correlation_id", &cmd.correlation_id, true},
                                         std::tuple{"causation_id", &cmd.causation_id, true}})
    if (!is_identifier(*id, may_be_empty))
      return make_error(errc::invalid_argument,
                        "command " + cmd.command_type + ": " + identifier_problem(label, *id, may_be_empty));
  return {};
}

void app_core::stop() {
  std::call_once(stopped_, [this] {
    stopped_flag_ = true;
    follower.reset();  // its thread reports to the writer: joined first
    if (!sys) return;
    caf::scoped_actor self{*sys};
    auto stop_and_wait = [&](std::vector<caf::actor> actors) {
      std::set<caf::actor_addr> running;
      for (auto& a : actors) {
        if (!a) continue;
        self->monitor(a);
        self->send_exit(a, caf::exit_reason::user_shutdown);
        running.insert(a.address());
      }
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!running.empty() && std::chrono::steady_clock::now() < deadline)
        self->receive([&](const caf::down_msg& dm) { running.erase(dm.source); },
                      caf::after(std::chrono::seconds(1)) >> [] {});
    };
    // The reader goes first too: its death ends any await on a long catch-up.
    // The writer goes last, so appends already queued still commit; so does
    // the read store, which has the projections' final snapshots queued.
    store_stopping->store(true);  // a durable catch-up ends at its next chunk
    std::vector<caf::actor> front{client, router, reader};
    front.insert(front.end(), process_drivers.begin(), process_drivers.end());
    for (auto& [name, p] : projections) front.push_back(p);
    stop_and_wait(std::move(front));
    stop_and_wait({writer, store});
  });
}

}  // namespace detail
}  // namespace interlock
