// projection_model<P>: the model/projection_instance.hpp interface the actors
// drive, implemented for a user's projection type P from its `events` /
// `queries` lists; make_projection_kind<P>() registers it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <interlock/model/projection_instance.hpp>
#include <interlock/runtime/command.hpp>
#include <interlock/runtime/detail/aggregate_model.hpp>

namespace interlock::detail {

template <class P, class E>
concept consumes_with_envelope = requires(P& p, const E& e, const event_envelope& env) { p.on(e, env); };
template <class P, class E>
concept consumes = requires(P& p, const E& e) { p.on(e); };
template <class P, class Q>
concept answers = requires(P& p, const Q& q) { p.handle(q); };
// A durable read model's handlers also take the read store's SQL connection.
template <class P, class E>
concept consumes_into_db_with_envelope =
    requires(P& p, const E& e, const event_envelope& env, read_db& db) { p.on(e, env, db); };
template <class P, class E>
concept consumes_into_db = requires(P& p, const E& e, read_db& db) { p.on(e, db); };
template <class P, class Q>
concept answers_from_db = requires(P& p, const Q& q, read_db& db) { p.handle(q, db); };
template <class P>
concept creates_tables = requires(P& p, read_db& db) { p.create(db); };
template <class P>
concept resets_tables = requires(P& p, read_db& db) { p.reset(db); };

template <class P, class E>
constexpr bool takes_envelope = consumes_with_envelope<P, E> || consumes_into_db_with_envelope<P, E>;

template <class P, class E>
constexpr bool check_projected_event() {
  static_assert(consumes_with_envelope<P, E> || consumes<P, E> || consumes_into_db_with_envelope<P, E> ||
                    consumes_into_db<P, E>,
                "projection lists an event in `events` but has no on(const E&[, const event_envelope&][, read_db&])");
  static_assert(json_codable<E>, "an event must have a JSON form: INTERLOCK_JSON, or nlohmann to_json/from_json with <interlock/runtime/nlohmann_json.hpp> included, or no fields");
  return true;
}

template <class P, class Q>
constexpr bool check_query() {
  static_assert(answers<P, Q> || answers_from_db<P, Q>,
                "projection lists a query in `queries` but has no handle(const Q&[, read_db&])");
  static_assert(has_result_type<Q>, "a query must declare `using result_type = R;` (or derive from interlock::query<R>)");
  static_assert(json_codable<Q>, "a query must have a JSON form: INTERLOCK_JSON, or nlohmann to_json/from_json with <interlock/runtime/nlohmann_json.hpp> included, or no fields");
  return true;
}

// Compiled once in the library (runtime/detail/projection_model.cpp).
/// Inside a catch block around projection `projection`'s on() for `e`.
caf::error consumer_exception_error(const event_view& e, std::string_view projection);

/// What the runtime knows of a projection type: its consumers and queries by
/// type name, built once per type, filled and searched in the library
/// (projection_model.cpp).
struct projection_type_info {
  using event_fn = caf::error (*)(void* state, const event_view& e, event_envelope& scratch, read_db* db);
  struct query_fn {
    const std::type_info* type;
    std::pair<caf::error, std::shared_ptr<const void>> (*run)(void* state, const void* body, read_db* db);
  };

  std::string_view type_name;
  bool reads_ids = false;  // a consumer takes the envelope
  name_map<event_fn> consumers;
  name_map<query_fn> queries;

  void add_consumer(std::string_view name, event_fn fn);
  void add_query(std::string_view name, query_fn fn);
};

template <class P>
concept keeps_read_model_snapshots = requires { { P::snapshot_every } -> std::convertible_to<std::uint64_t>; };

template <class P>
constexpr bool check_snapshot_policy() {
  if constexpr (keeps_read_model_snapshots<P>)
    static_assert(state_codable<P>, "a projection with snapshot_every must have a JSON form: INTERLOCK_JSON(P, fields...), or nlohmann to_json/from_json with <interlock/runtime/nlohmann_json.hpp> included");
  return true;
}

/// A durable read model: one whose handlers or table setup take the read store's connection.
template <class P, class... Es, class... Qs>
constexpr bool is_durable(types<Es...>*, types<Qs...>*) {
  return creates_tables<P> || resets_tables<P> || (consumes_into_db<P, Es> || ...) ||
         (consumes_into_db_with_envelope<P, Es> || ...) || (answers_from_db<P, Qs> || ...);
}

/// Inside a catch block: errc::corrupt_event, P's create(read_db&) or reset(read_db&) threw.
caf::error table_exception_error(std::string_view projection, std::string_view step);
/// errc::invalid_argument: a durable P without reset(read_db&) cannot be rebuilt.
caf::error no_reset_error(std::string_view projection);

/// "read-model snapshot of projection P", as errors name one.
std::string read_model_snapshot_name(std::string_view projection);
/// Inside a catch block: errc::corrupt_event, the snapshot does not decode.
caf::error read_model_decode_error(std::string_view projection);

/// projection_instance for any projection type, compiled once in the library.
class projection_model_base : public projection_instance {
 public:
  caf::error apply(const event_view& e, event_envelope& scratch) override;
  query_outcome answer(const erased_query& q) override;
  bool reads_ids() const override { return info_->reads_ids; }
  void attach(read_db* db) override { db_ = db; }

 protected:
  explicit projection_model_base(const projection_type_info& info) : info_(&info) {}
  void bind(void* state) { state_ = state; }
  read_db* db() const { return db_; }

 private:
  const projection_type_info* info_;
  void* state_ = nullptr;
  read_db* db_ = nullptr;  // durable read models: the read store's connection
  bool seen_a_type_ = false;
  std::string last_type_;                                   // the type apply() saw last...
  projection_type_info::event_fn last_consumer_ = nullptr;  // ...and its consumer, or none
};

template <class P>
class projection_model final : public projection_model_base {
 public:
  explicit projection_model(P initial) : projection_model_base(info()), state_(std::move(initial)) { bind(&state_); }
  // A copy (the test kit's) points its base at its own state.
  projection_model(const projection_model& other) : projection_model_base(other), state_(other.state_) {
    bind(&state_);
  }
  projection_model(projection_model&& other) noexcept : projection_model_base(other), state_(std::move(other.state_)) {
    bind(&state_);
  }
  projection_model& operator=(const projection_model& other) {
    projection_model_base::operator=(other);
    state_ = other.state_;
    bind(&state_);
    return *this;
  }
  projection_model& operator=(projection_model&& other) noexcept {
    projection_model_base::operator=(other);
    state_ = std::move(other.state_);
    bind(&state_);
    return *this;
  }

  caf::error create_tables() override {
    if constexpr (creates_tables<P>) {
      try {
        state_.create(*db());
      } catch (...) {
        return table_exception_error(type_name_of<P>(), "create");
      }
    }
    return {};
  }

  caf::error reset_tables() override {
    if constexpr (resets_tables<P>) {
      try {
        state_.reset(*db());
        return {};
      } catch (...) {
        return table_exception_error(type_name_of<P>(), "reset");
      }
    } else {
      return no_reset_error(type_name_of<P>());
    }
  }

  caf::expected<std::string> snapshot() const override {
    if constexpr (state_codable<P>) {
      try {
        return encode_text(state_, [] { return read_model_snapshot_name(type_name_of<P>()); });
      } catch (...) {
        return exception_error(errc::invalid_argument, read_model_snapshot_name(type_name_of<P>()) + ": encoding");
      }
    } else {
      return not_snapshottable_error(type_name_of<P>());
    }
  }

  /// The read model in `json` (a snapshot()) read into `initial` (a fresh
  /// one, so fields the JSON does not hold keep their initial values), or
  /// errc::corrupt_event.
  static caf::expected<std::unique_ptr<projection_instance>> restore(P initial, std::string_view json) {
    if constexpr (state_codable<P>) {
      try {
        decode_json_into(json, initial);
        return std::unique_ptr<projection_instance>{std::make_unique<projection_model>(std::move(initial))};
      } catch (...) {
        return read_model_decode_error(type_name_of<P>());
      }
    } else {
      return not_snapshottable_error(type_name_of<P>());
    }
  }

  static const projection_type_info& info() {
    static const projection_type_info table = make_info(static_cast<typename P::events*>(nullptr),
                                                        static_cast<typename P::queries*>(nullptr));
    return table;
  }

 private:
  template <class... Es, class... Qs>
  static projection_type_info make_info(types<Es...>*, types<Qs...>*) {
    static_assert((check_projected_event<P, Es>() && ...));
    static_assert((check_query<P, Qs>() && ...));
    projection_type_info table;
    table.type_name = type_name_of<P>();
    table.reads_ids = (takes_envelope<P, Es> || ...);
    (table.add_consumer(type_name_of<Es>(), &consume<Es>), ...);
    (table.add_query(type_name_of<Qs>(), {&typeid(Qs), &run_query<Qs>}), ...);
    return table;
  }

  template <class E>
  static caf::error consume(void* state, const event_view& e, event_envelope& scratch, read_db* db) {
    auto ev = decode_event<E>(e);
    if (!ev) return ev.error();
    auto& self = *static_cast<P*>(state);
    try {
      if constexpr (takes_envelope<P, E>) fill_envelope(e, scratch);
      const auto& env = static_cast<const event_envelope&>(scratch);
      if constexpr (consumes_into_db_with_envelope<P, E>) self.on(*ev, env, *db);
      else if constexpr (consumes_into_db<P, E>) self.on(*ev, *db);
      else if constexpr (consumes_with_envelope<P, E>) self.on(*ev, env);
      else self.on(*ev);
    } catch (...) {
      return consumer_exception_error(e, type_name_of<P>());
    }
    return {};
  }

  template <class Q>
  static std::pair<caf::error, std::shared_ptr<const void>> run_query(void* state, const void* body, read_db* db) {
    if constexpr (answers_from_db<P, Q>) {
      auto& self = *static_cast<P*>(state);
      const auto& q = *static_cast<const Q*>(body);
      using H = decltype(self.handle(q, *db));
      return invoke_handler<result_of_t<Q>, H>([&]() -> H { return self.handle(q, *db); });
    } else {
      return run_handler<P, Q>(state, body);
    }
  }

  P state_;
};

/// What a projection or process type says of how it reads: its
/// subscription (`catch_up_by_type`, `using aggregates`, its `events`) and
/// its poison policy (`on_poison`, `poison_retries`, `poison_backoff`).
template <class T>
void set_reading_policy(projection_kind& kind) {
  if constexpr (requires { { T::catch_up_by_type } -> std::convertible_to<bool>; })
    kind.catch_up_by_type = T::catch_up_by_type;
  if constexpr (requires { typename T::aggregates; }) {
    kind.aggregate_types = names_of(static_cast<typename T::aggregates*>(nullptr));
    kind.catch_up_by_type = true;
  }
  if constexpr (requires { { T::on_poison } -> std::convertible_to<poison_policy>; }) kind.on_poison = T::on_poison;
  if constexpr (requires { { T::poison_retries } -> std::convertible_to<std::uint32_t>; })
    kind.poison_retries = T::poison_retries;
  if constexpr (requires { { T::poison_backoff } -> std::convertible_to<std::chrono::milliseconds>; })
    kind.poison_backoff = T::poison_backoff;
  kind.event_types = event_bindings(static_cast<typename T::events*>(nullptr));
  for (auto& b : kind.event_types) kind.stored_event_types.push_back(b.name);
}

template <class P, class Factory>
std::shared_ptr<const projection_kind> make_projection_kind(Factory factory) {
  projection_model<P>::info();  // builds the tables and instantiates the compile-time checks
  static_assert(check_snapshot_policy<P>());
  auto kind = std::make_shared<projection_kind>();
  kind->type_name = std::string{type_name_of<P>()};
  if constexpr (keeps_read_model_snapshots<P>) kind->snapshot_every = P::snapshot_every;
  kind->durable = is_durable<P>(static_cast<typename P::events*>(nullptr), static_cast<typename P::queries*>(nullptr));
  static_assert(!keeps_read_model_snapshots<P> || !is_durable<P>(static_cast<typename P::events*>(nullptr),
                                                                  static_cast<typename P::queries*>(nullptr)),
                "a durable read model (handlers that take read_db&) keeps its checkpoint with its tables: "
                "drop snapshot_every");
  kind->state_version = state_version_of<P>();
  set_reading_policy<P>(*kind);
  kind->restore = [factory](std::string_view json) { return projection_model<P>::restore(factory(), json); };
  kind->query_types = names_of(static_cast<typename P::queries*>(nullptr));
  kind->registration_error = list_error<typename P::queries, typename P::events>("projection " + kind->type_name, "query");
  kind->make = [factory]() -> std::unique_ptr<projection_instance> {
    return std::make_unique<projection_model<P>>(factory());
  };
  return kind;
}

}  // namespace interlock::detail
