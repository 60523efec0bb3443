// aggregate_model<T>: the model/aggregate_instance.hpp interface the actors
// drive, implemented for a user's aggregate type T from its `commands` /
// `events` lists; make_aggregate_kind<T>() registers it.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>

#include <interlock/model/aggregate_instance.hpp>
#include <interlock/runtime/aggregate.hpp>
#include <interlock/runtime/command.hpp>
#include <interlock/runtime/rejected.hpp>

namespace interlock::detail {

/// An event type may declare that stored data never held versions below
/// `first_schema_version` (it was new at that version): no upcasters needed below it.
template <class E>
constexpr std::uint32_t oldest_schema_version_of() {
  if constexpr (requires { { E::first_schema_version } -> std::convertible_to<std::uint32_t>; })
    return E::first_schema_version;
  else
    return 1;
}

struct aggregate_access {
  static std::string& id(aggregate_core& a) { return a.id_; }
  static std::uint64_t& version(aggregate_core& a) { return a.version_; }
  static std::vector<pending_event>& pending(aggregate_core& a) { return a.pending_; }
  static const std::vector<pending_event>& pending(const aggregate_core& a) { return a.pending_; }
  static caf::error& refused(aggregate_core& a) { return a.refused_; }
};

template <class T, class C>
concept handles_command = requires(T& t, const C& c) { t.handle(c); };
template <class T, class E>
concept applies_event = requires(T& t, const E& e) { t.apply(e); };

template <class T>
struct is_expected : std::false_type {};
template <class T>
struct is_expected<caf::expected<T>> : std::true_type {};

/// Turns a handler's return value into (error, result) for command<R> / query<R>.
template <class R, class H, class Call>
std::pair<caf::error, std::shared_ptr<const void>> invoke_handler(Call&& call) {
  if constexpr (std::is_void_v<H>) {
    static_assert(std::is_void_v<R>, "handler returns void but the command/query declares a result type");
    call();
    return {};
  } else if constexpr (std::is_same_v<H, caf::error>) {
    static_assert(std::is_void_v<R>, "a handler returning caf::error is for result_type void");
    return {call(), nullptr};
  } else if constexpr (is_expected<H>::value) {
    auto res = call();
    if (!res) return {res.error(), nullptr};
    if constexpr (std::is_void_v<R>) return {};
    else return {caf::error{}, std::make_shared<R>(std::move(*res))};
  } else {
    static_assert(std::is_convertible_v<H, R>, "handler's return type does not convert to the declared result_type");
    return {caf::error{}, std::make_shared<R>(call())};
  }
}

/// Runs `self.handle(message)` for a command or a query of type M on a state
/// of type Self, both type erased: the function a model's table points to.
template <class Self, class M>
std::pair<caf::error, std::shared_ptr<const void>> run_handler(void* state, const void* body) {
  auto& self = *static_cast<Self*>(state);
  const auto& message = *static_cast<const M*>(body);
  using H = decltype(self.handle(message));
  return invoke_handler<result_of_t<M>, H>([&]() -> H { return self.handle(message); });
}

template <class T, class C>
constexpr bool check_command() {
  static_assert(handles_command<T, C>, "aggregate lists a command in `commands` but has no handle(const C&) for it");
  static_assert(has_result_type<C>, "a command must declare `using result_type = R;` (or derive from interlock::command<R>)");
  static_assert(json_codable<C>, "a command must have a JSON form: INTERLOCK_JSON, or nlohmann to_json/from_json with <interlock/runtime/nlohmann_json.hpp> included, or no fields");
  return true;
}

template <class T, class E>
constexpr bool check_event() {
  static_assert(applies_event<T, E>, "aggregate lists an event in `events` but has no apply(const E&) for it");
  static_assert(json_codable<E>, "an event must have a JSON form: INTERLOCK_JSON, or nlohmann to_json/from_json with <interlock/runtime/nlohmann_json.hpp> included, or no fields");
  return true;
}

/// The state can be stored as JSON (snapshots, time travel results).
template <class T>
concept state_codable = has_json_fields<T> || json_serialisable<T>;

template <class T>
concept declares_snapshot_every = requires { { T::snapshot_every } -> std::convertible_to<std::uint64_t>; };
template <class T>
concept declares_snapshot_when =
    requires(const T& t, std::string_view type, std::uint64_t v) { { t.snapshot_when(type, v) } -> std::convertible_to<bool>; };
template <class T>
concept declares_snapshot_keep = requires { { T::snapshot_keep } -> std::convertible_to<std::size_t>; };

template <class T>
constexpr std::uint32_t state_version_of() {
  if constexpr (requires { { T::state_version } -> std::convertible_to<std::uint32_t>; }) return T::state_version;
  else return 1;
}

// The cold paths of the models below, compiled once in the library
// (runtime/detail/model_errors.cpp), not in each user's translation unit.

/// Inside a catch block: errc `code`, "`what`: <the exception's what()>", or
/// "`what` a non-standard exception".
caf::error exception_error(errc code, std::string what);
/// "snapshot of Type/id at version N", as errors name a snapshot.
std::string snapshot_name(std::string_view type, const std::string& id, std::uint64_t version);
/// errc::schema_mismatch if `snap` was written by another state version.
caf::error check_snapshot(const snapshot_record& snap, std::string_view type, const std::string& id,
                          std::uint32_t state_version);
/// Inside a catch block: errc::corrupt_event, the snapshot does not decode.
caf::error snapshot_decode_error(const snapshot_record& snap, std::string_view type, const std::string& id);
/// errc::schema_mismatch: `type`'s state is not JSON-serialisable.
caf::error not_snapshottable_error(std::string_view type);

/// What the runtime knows of an aggregate type: its handlers and appliers by
/// type name, built once per type. The tables are filled and searched in the
/// library (aggregate_model.cpp), so a user's translation unit compiles only
/// the small functions they point to.
struct aggregate_type_info {
  struct command_fn {
    const std::type_info* type;
    std::pair<caf::error, std::shared_ptr<const void>> (*run)(void* state, const void* body);
    // Idempotent commands store their result: null if R cannot be encoded.
    caf::expected<std::string> (*encode_result)(const void* result);
    caf::expected<std::shared_ptr<const void>> (*decode_result)(const std::string& json);
  };
  using replay_fn = caf::error (*)(void* state, const event_view& e);

  std::string_view type_name;
  name_map<command_fn> handlers;
  name_map<replay_fn> appliers;

  void add_handler(std::string_view name, command_fn fn);
  void add_applier(std::string_view name, replay_fn fn);
};

/// When an aggregate writes a snapshot (the type's own declarations win over
/// the runtime's defaults).
struct snapshot_policy {
  bool enabled = false;
  std::uint64_t every = 0;
  std::size_t keep = 2;
};

/// aggregate_instance for any aggregate type, compiled once in the library:
/// replay, execute, commit and their errors. aggregate_model<T> adds the state.
class aggregate_model_base : public aggregate_instance {
 public:
  caf::error replay(const event_view& e, bool more_of_same = false) override;
  command_outcome execute(const erased_command& cmd) override;
  caf::error commit() override;
  caf::error apply_unstored() override;
  std::uint64_t version() const override { return core_->version(); }
  caf::expected<std::shared_ptr<const void>> decode_result(const std::string& command_type,
                                                          const std::string& json) const override;
  bool snapshots_enabled() const override { return policy_.enabled; }
  std::size_t snapshots_kept() const override { return policy_.keep; }

 protected:
  aggregate_model_base(const aggregate_type_info& info, snapshot_policy policy) : info_(&info), policy_(policy) {}
  /// The derived model's state object (T) and its aggregate_core base.
  void bind(void* state, aggregate_core& core) {
    state_ = state;
    core_ = &core;
  }
  /// The state after the pending events, encoded, if any of them crosses the
  /// policy's threshold; nullopt if none does or the state cannot be stored.
  virtual caf::expected<std::optional<snapshot_record>> snapshot_if_due() const = 0;

  const snapshot_policy& policy() const { return policy_; }

 private:
  caf::error apply_pending(const char* context);
  void rollback();
  caf::error encode_extras(const aggregate_type_info::command_fn& fn, const erased_command& cmd,
                           command_outcome& out) const;

  const aggregate_type_info* info_;
  snapshot_policy policy_;
  void* state_ = nullptr;
  aggregate_core* core_ = nullptr;
  std::string_view last_type_;                              // the type replay() applied last...
  aggregate_type_info::replay_fn last_applier_ = nullptr;  // ...and its applier
};

template <class T>
class aggregate_model final : public aggregate_model_base {
 public:
  aggregate_model(const std::string& id, const snapshot_settings& defaults)
      : aggregate_model_base(info(), policy_for(defaults)) {
    bind(&state_, state_);
    aggregate_access::id(state_) = id;
  }
  // A copy (the test kit's) points its base at its own state.
  aggregate_model(const aggregate_model& other) : aggregate_model_base(other), state_(other.state_) {
    bind(&state_, state_);
  }
  aggregate_model(aggregate_model&& other) noexcept : aggregate_model_base(other), state_(std::move(other.state_)) {
    bind(&state_, state_);
  }
  aggregate_model& operator=(const aggregate_model& other) {
    aggregate_model_base::operator=(other);
    state_ = other.state_;
    bind(&state_, state_);
    return *this;
  }
  aggregate_model& operator=(aggregate_model&& other) noexcept {
    aggregate_model_base::operator=(other);
    state_ = std::move(other.state_);
    bind(&state_, state_);
    return *this;
  }

  const T& state() const { return state_; }

  caf::error restore(const snapshot_record& snap) override {
    if constexpr (state_codable<T>) {
      if (auto err = check_snapshot(snap, type_name_of<T>(), state_.id(), state_version_of<T>())) return err;
      try {
        T restored = decode_json<T>(snap.state);
        aggregate_access::id(restored) = state_.id();
        aggregate_access::version(restored) = snap.version;
        state_ = std::move(restored);
        return {};
      } catch (...) {
        return snapshot_decode_error(snap, type_name_of<T>(), state_.id());
      }
    } else {
      return not_snapshottable_error(type_name_of<T>());
    }
  }

  caf::expected<std::string> state_json() const override {
    if constexpr (state_codable<T>)
      return encode_text(state_, [&] { return snapshot_name(type_name_of<T>(), state_.id(), state_.version()); });
    else
      return not_snapshottable_error(type_name_of<T>());
  }

  static const aggregate_type_info& info() {
    static const aggregate_type_info table = make_info(static_cast<typename T::commands*>(nullptr),
                                                       static_cast<typename T::events*>(nullptr));
    return table;
  }

 private:
  template <class... Cs, class... Es>
  static aggregate_type_info make_info(types<Cs...>*, types<Es...>*) {
    static_assert((check_command<T, Cs>() && ...));
    static_assert((check_event<T, Es>() && ...));
    aggregate_type_info table;
    table.type_name = type_name_of<T>();
    (table.add_handler(type_name_of<Cs>(), {&typeid(Cs), &run_handler<T, Cs>, result_encoder<Cs>(), result_decoder<result_of_t<Cs>>()}),
     ...);
    (table.add_applier(type_name_of<Es>(), &apply_stored<Es>), ...);
    return table;
  }

  template <class E>
  static caf::error apply_stored(void* state, const event_view& e) {
    auto ev = decode_event<E>(e);
    if (!ev) return ev.error();
    try {
      static_cast<T*>(state)->apply(*ev);
    } catch (...) {
      return exception_error(errc::corrupt_event, describe_event(e) + ": apply() threw");
    }
    return {};
  }

  template <class C, class R = result_of_t<C>>
  static auto result_encoder() -> caf::expected<std::string> (*)(const void*) {
    if constexpr (std::is_void_v<R>)
      return +[](const void*) -> caf::expected<std::string> { return std::string{"null"}; };
    else if constexpr (json_codable<R>)
      return +[](const void* r) {
        return encode_text(*static_cast<const R*>(r),
                           [] { return "the result of command " + std::string{type_name_of<C>()}; });
      };
    else return nullptr;
  }

  template <class R>
  static auto result_decoder() -> caf::expected<std::shared_ptr<const void>> (*)(const std::string&) {
    if constexpr (std::is_void_v<R>)
      return +[](const std::string&) -> caf::expected<std::shared_ptr<const void>> { return nullptr; };
    else if constexpr (json_codable<R>)
      return +[](const std::string& json) -> caf::expected<std::shared_ptr<const void>> {
        try {
          return std::shared_ptr<const void>{std::make_shared<R>(decode_json<R>(json))};
        } catch (...) {
          return exception_error(errc::corrupt_event, "a stored command result does not decode");
        }
      };
    else return nullptr;
  }

  static snapshot_policy policy_for(const snapshot_settings& defaults) {
    snapshot_policy p;
    p.every = defaults.every;
    if constexpr (declares_snapshot_every<T>) p.every = T::snapshot_every;
    p.keep = defaults.keep;
    if constexpr (declares_snapshot_keep<T>) p.keep = std::max<std::size_t>(1, T::snapshot_keep);
    p.enabled = state_codable<T> && (p.every > 0 || declares_snapshot_when<T>);
    return p;
  }

  // The events are applied to a copy: the real state changes only once the
  // journal has committed them.
  caf::expected<std::optional<snapshot_record>> snapshot_if_due() const override {
    if constexpr (state_codable<T>) {
      const auto& p = policy();
      if (!p.enabled) return std::nullopt;
      const auto& pending = aggregate_access::pending(state_);
      auto version = state_.version();
      bool due = false;
      if constexpr (!declares_snapshot_when<T>) {
        due = (version + pending.size()) / p.every > version / p.every;
        if (!due) return std::nullopt;
      }
      try {
        T next = state_;
        aggregate_access::pending(next).clear();
        for (auto& e : pending) {
          e.apply(&next);
          ++version;
          if constexpr (declares_snapshot_when<T>)
            due = due || next.snapshot_when(e.record.type, version) || (p.every > 0 && version % p.every == 0);
        }
        aggregate_access::version(next) = version;
        if (!due) return std::nullopt;
        auto state = encode_text(next, [&] { return snapshot_name(type_name_of<T>(), state_.id(), version); });
        if (!state) return std::move(state.error());
        return snapshot_record{version, state_version_of<T>(), std::move(*state), 0};
      } catch (...) {
        return std::nullopt;  // commit() applies the same events and reports the failure
      }
    } else {
      return std::nullopt;
    }
  }

  T state_;
};

template <class... Es>
std::vector<event_binding> event_bindings(types<Es...>*) {
  return {event_binding{std::string{type_name_of<Es>()}, std::type_index{typeid(Es)}, schema_version_of<Es>(),
                        oldest_schema_version_of<Es>()}...};
}

/// The names of `Ts`, in order.
template <class... Ts>
std::vector<std::string> names_of(types<Ts...>*) {
  return {std::string{type_name_of<Ts>()}...};
}

/// "" or why `owner`'s lists cannot be registered (two types under one name);
/// compiled once in the library, not in each user's translation unit.
std::string list_error(const std::string& owner, const char* commands_label, std::vector<std::string> commands,
                       std::vector<std::string> events);

/// list_error() for the type lists `Commands` and `Events`.
template <class Commands, class Events>
std::string list_error(const std::string& owner, const char* commands_label) {
  return list_error(owner, commands_label, names_of(static_cast<Commands*>(nullptr)),
                    names_of(static_cast<Events*>(nullptr)));
}

template <class T>
std::shared_ptr<const aggregate_kind> make_aggregate_kind() {
  static_assert(std::is_base_of_v<aggregate<T>, T>, "an aggregate derives from interlock::aggregate<Self>");
  static_assert(std::is_default_constructible_v<T>, "an aggregate must be default-constructible");
  aggregate_model<T>::info();  // builds the tables and instantiates the compile-time checks
  auto kind = std::make_shared<aggregate_kind>();
  kind->type_name = std::string{type_name_of<T>()};
  kind->command_types = names_of(static_cast<typename T::commands*>(nullptr));
  kind->event_types = event_bindings(static_cast<typename T::events*>(nullptr));
  kind->registration_error = list_error<typename T::commands, typename T::events>("aggregate " + kind->type_name, "command");
  static_assert(!(declares_snapshot_every<T> || declares_snapshot_when<T>) || state_codable<T>,
                "an aggregate that declares snapshots must be JSON-serialisable (INTERLOCK_JSON or to_json/from_json)");
  kind->make = [](const std::string& id, const snapshot_settings& defaults) {
    return std::make_unique<aggregate_model<T>>(id, defaults);
  };
  return kind;
}

}  // namespace interlock::detail
