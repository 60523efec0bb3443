// A running Interlock application inside the user's actor system.
//
//   auto app = interlock::application_builder{sys}.aggregate<BankAccount>()
//                  .projection<Balances>().build();
//   auto r = app->dispatch(id, DepositMoney{100});     // caf::expected<receipt<void>>
//   auto b = app->query(GetBalance{id}, {.after = r->position});
//
// dispatch() and query() block the calling thread: use them from main() and
// tests. Called inside an actor (on a scheduler thread) they return
// errc::invalid_argument at once instead of waiting; there use
// interlock::async_dispatch(self, app, ...) / async_query in
// <interlock/runtime/actor_api.hpp>, which do not block. The *_async forms
// return a std::future (whose get() blocks as well).
// All methods are thread-safe. Destroying (or stop()ping) the application stops
// its actors and closes the journal; events already acknowledged are durable.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <interlock/core/type_name.hpp>
#include <interlock/model/erased.hpp>
#include <interlock/persistence/read_store.hpp>
#include <interlock/runtime/as_of.hpp>
#include <interlock/runtime/command.hpp>
#include <interlock/runtime/detail/aggregate_model.hpp>
#include <interlock/runtime/detail/reply_conversion.hpp>
#include <interlock/runtime/options.hpp>
#include <interlock/runtime/receipt.hpp>
#include <interlock/runtime/status.hpp>
#include <interlock/runtime/ulid.hpp>

namespace interlock {
namespace detail {
class app_core;
class aggregate_directory;
struct application_access;
struct reply_watch;  // actors/reply_watch.hpp
}

class application {
 public:
  application(application&&) noexcept;
  application& operator=(application&&) noexcept;
  ~application();

  /// Sends `cmd` to aggregate `aggregate_id` and waits for the outcome: the
  /// handler's result and where its events landed, or the error (rejected,
  /// conflict, timeout, ...).
  template <class C>
  caf::expected<receipt<result_of_t<C>>> dispatch(std::string aggregate_id, C cmd, dispatch_options opts = {}) {
    if (auto err = refuse_blocking("dispatch()", "async_dispatch")) return err;
    const auto timeout = opts.timeout;
    return detail::to_receipt<result_of_t<C>>(
        dispatch_and_wait(make_command<C>(std::move(aggregate_id), std::move(cmd), std::move(opts)), timeout));
  }

  /// Dispatches to a new aggregate with a fresh ULID id (receipt.aggregate_id).
  template <class C>
  caf::expected<receipt<result_of_t<C>>> create(C cmd, dispatch_options opts = {}) {
    return dispatch(new_id(), std::move(cmd), std::move(opts));
  }

  template <class C>
  std::future<caf::expected<receipt<result_of_t<C>>>> dispatch_async(std::string aggregate_id, C cmd,
                                                                     dispatch_options opts = {}) {
    using R = result_of_t<C>;
    auto done = std::make_shared<std::promise<caf::expected<receipt<R>>>>();
    auto future = done->get_future();
    auto timeout = opts.timeout;
    submit(make_command<C>(std::move(aggregate_id), std::move(cmd), std::move(opts)), timeout,
           [done](caf::expected<detail::erased_reply> r) { done->set_value(detail::to_receipt<R>(std::move(r))); });
    return future;
  }

  /// Asks the projection that answers Q.
  template <class Q>
  caf::expected<result_of_t<Q>> query(Q q, query_options opts = {}) {
    if (auto err = refuse_blocking("query()", "async_query")) return err;
    return detail::to_result<result_of_t<Q>>(ask_and_wait(make_query<Q>(std::move(q), opts)));
  }

  template <class Q>
  std::future<caf::expected<result_of_t<Q>>> query_async(Q q, query_options opts = {}) {
    using R = result_of_t<Q>;
    auto done = std::make_shared<std::promise<caf::expected<R>>>();
    auto future = done->get_future();
    ask(make_query<Q>(std::move(q), opts),
        [done](caf::expected<detail::erased_answer> a) { done->set_value(detail::to_result<R>(std::move(a))); });
    return future;
  }

  /// Aggregate T `aggregate_id` as it was at `bound` (see as_of.hpp), loaded
  /// from the journal on the reader's connection. The live actor is not
  /// involved, and nothing is written. Errors: T not registered, a stored
  /// event that does not decode (naming stream, version and type).
  template <class T>
  caf::expected<state_as_of<T>> load_as_of(const std::string& aggregate_id, as_of bound = as_of::latest()) {
    auto model = std::make_shared<detail::aggregate_model<T>>(aggregate_id, snapshot_defaults());
    auto last = load(model, std::string{type_name_of<T>()}, aggregate_id, bound);
    if (!last) return std::move(last.error());
    return state_as_of<T>{model->state(), std::move(*last)};
  }

  /// How many aggregate actors are alive (passivated ones that are still
  /// finishing their last command included): for diagnostics and tests.
  caf::expected<std::size_t> live_aggregates() const;

  /// What each projection is doing, in registration order: phase, position,
  /// lag, rate, waiting queries, failure. Read without a message, so it never
  /// blocks (callable from actors too) and a projection busy catching up
  /// reports. errc::unavailable once the application has stopped.
  caf::expected<std::vector<projection_status>> status() const;

  /// Rebuilds projection P's read model from the whole journal: a new one is
  /// built beside the old, which answers queries and applies live events
  /// meanwhile, and replaces it at once when it has caught up; the call
  /// returns then (status `rebuilding` until). Durable (tables): the new
  /// tables are built in a scratch store of their own and replace the old
  /// ones, with the checkpoint, in one transaction of the read store; if the
  /// rebuild fails, the old ones stay and the call returns the error.
  /// Processors and sagas: their rows are emptied and filled again in place.
  template <class P>
  caf::error rebuild() { return rebuild(std::string{type_name_of<P>()}); }
  caf::error rebuild(const std::string& projection_type);

  /// Pauses projection P: it applies nothing more (also no catch-up) until
  /// resumed, and answers queries from what it has (a query waiting for a
  /// later position waits, up to its timeout). Status: paused.
  template <class P>
  caf::error pause() { return pause(std::string{type_name_of<P>()}); }
  caf::error pause(const std::string& projection_type);
  /// Resumes a paused projection: it catches up on what it missed, then is live.
  template <class P>
  caf::error resume() { return resume(std::string{type_name_of<P>()}); }
  caf::error resume(const std::string& projection_type);
  /// Moves a paused projection to `position`, as if it had applied the journal
  /// up to there: a read model in memory starts empty there, a durable one
  /// keeps its tables and has its checkpoint set (events after `position` are
  /// applied again, events before it not). It stays paused: resume() it.
  template <class P>
  caf::error reset(std::uint64_t position) { return reset(std::string{type_name_of<P>()}, position); }
  caf::error reset(const std::string& projection_type, std::uint64_t position);

  /// The events projection P parked (its handler kept failing on them and its
  /// type says `on_poison = interlock::poison_policy::park`), by position.
  template <class P>
  caf::expected<std::vector<parked_event>> parked_events() const {
    return parked_events(std::string{type_name_of<P>()});
  }
  caf::expected<std::vector<parked_event>> parked_events(const std::string& projection_type) const;
  /// Applies P's parked event at `position` now (out of order: the events
  /// after it were applied first) and unparks it; if the handler fails
  /// again, that error, and the event stays parked.
  template <class P>
  caf::error replay_parked(std::uint64_t position) { return replay_parked(std::string{type_name_of<P>()}, position); }
  caf::error replay_parked(const std::string& projection_type, std::uint64_t position);

  /// Stops the actors and closes the journal (idempotent; the destructor calls it).
  void stop();

  caf::actor_system& system() const;

 private:
  friend class application_builder;
  friend struct detail::application_access;
  // -- what the public calls are made of; the actor API reaches them through
  // detail::application_access (application_access.hpp) --------------------
  using command_callback = std::function<void(caf::expected<detail::erased_reply>)>;
  using query_callback = std::function<void(caf::expected<detail::erased_answer>)>;
  template <class C>
  detail::erased_command make_command(std::string aggregate_id, C cmd, dispatch_options opts) const {
    return make_command(std::string{type_name_of<C>()}, typeid(C), std::move(aggregate_id),
                        std::make_shared<const C>(std::move(cmd)), std::move(opts));
  }
  detail::erased_command make_command(std::string command_type, const std::type_info& type, std::string aggregate_id,
                                      std::shared_ptr<const void> body, dispatch_options opts) const;
  template <class Q>
  detail::erased_query make_query(Q q, query_options opts) const {
    return {std::string{type_name_of<Q>()}, std::make_shared<const Q>(std::move(q)), &typeid(Q), opts.after,
            opts.timeout};
  }
  void submit(detail::erased_command cmd, std::chrono::milliseconds timeout, command_callback done) const;
  void ask(detail::erased_query q, query_callback done) const;
  // submit() and ask() that wait for the answer: the blocking calls' waiting
  // is compiled once here, not once per result type in the caller's code.
  caf::expected<detail::erased_reply> dispatch_and_wait(detail::erased_command cmd,
                                                        std::chrono::milliseconds timeout) const;
  caf::expected<detail::erased_answer> ask_and_wait(detail::erased_query q) const;
  /// The router that takes every command; the projection answering a query type.
  caf::actor router() const;
  /// The live aggregate actors a command may go to directly, bypassing the
  /// router; null when every command must pass the router (middleware).
  detail::aggregate_directory* directory() const;
  /// Answers request `id` of `requester` with errc::timeout unless the watch is
  /// marked answered within `timeout` (command timeouts without a CAF timer).
  /// (`w` holds the timeout and the command's description.)
  void watch_reply(std::shared_ptr<detail::reply_watch> w, caf::strong_actor_ptr requester, caf::message_id id) const;
  caf::expected<caf::actor> projection_for(const std::string& query_type) const;
  /// Sends `what` to projection `projection_type` and waits for its answer
  /// (up to the journal timeout, or `unbounded`).
  caf::error control(const std::string& projection_type, const char* call, const std::string& doing,
                     caf::message what, bool unbounded = false);
  std::chrono::milliseconds journal_timeout() const;
  detail::snapshot_settings snapshot_defaults() const;
  /// Loads `instance` (a fresh one) up to `bound`; the last envelope applied.
  caf::expected<std::optional<event_envelope>> load(std::shared_ptr<detail::aggregate_instance> instance,
                                                    const std::string& aggregate_type, const std::string& aggregate_id,
                                                    as_of bound) const;

  /// errc::invalid_argument on a scheduler thread, naming `call` and the actor API to use instead.
  static caf::error refuse_blocking(const char* call, const char* async_form);
  explicit application(std::shared_ptr<detail::app_core> core);
  std::shared_ptr<detail::app_core> core_;
};

}  // namespace interlock
