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
  template <class T>
  static std::string& id(T& a) { return a.id_; }
  template <class T>
  static std::uint64_t& version(T& a) { return a.version_; }
  template <class T>
  static auto& pending(T& a) { return a.pending_; }
  template <class T>
  static caf::error& refused(T& a) { return a.refused_; }
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
/// Inside a catch block around a command handler: errc::rejected with what() as it is.
caf::error handler_exception_error();
/// Why `cmd` cannot run on aggregate `aggregate`, whose handler for its type
/// name takes C++ type `handled` (null: no handler) and can store its result
/// for a retry if `result_storable`; none if it can.
caf::error check_command_fits(std::string_view aggregate, const erased_command& cmd, const std::type_info* handled,
                              bool result_storable);
/// errc::unknown_event_type: aggregate `aggregate` has no applier for `e`.
caf::error no_applier_error(const event_view& e, std::string_view aggregate);

template <class T>
class aggregate_model final : public aggregate_instance {
 public:
  struct command_fn {
    const std::type_info* type;
    std::function<std::pair<caf::error, std::shared_ptr<const void>>(T&, const void*)> run;
    // Idempotent commands store their result: null if R cannot be encoded.
    caf::expected<std::string> (*encode_result)(const void* result);
    caf::expected<std::shared_ptr<const void>> (*decode_result)(const std::string& json);
  };
  using replay_fn = caf::error (*)(T&, const event_view&);

  aggregate_model(const std::string& id, const snapshot_settings& defaults) : policy_(policy_for(defaults)) {
    aggregate_access::id(state_) = id;
  }

  const T& state() const { return state_; }

  caf::error replay(const event_view& e, bool more_of_same = false) override {
    auto& version = aggregate_access::version(state_);
    if (const auto expected = more_of_same ? version : version + 1; e.version != expected)
      return version_break(e, expected);
    if (e.event_type != last_type_) {  // streams hold runs of one type: skip the hash lookup then
      auto it = appliers().find(e.event_type);
      if (it == appliers().end())
        return no_applier_error(e, type_name_of<T>());
      last_type_ = it->first;  // the table is static: the view stays valid
      last_applier_ = it->second;
    }
    if (auto err = last_applier_(state_, e)) return err;
    version = e.version;
    return {};
  }

  command_outcome execute(const erased_command& cmd) override {
    auto it = handlers().find(cmd.command_type);
    const auto* fn = it == handlers().end() ? nullptr : &it->second;
    if (auto err = check_command_fits(type_name_of<T>(), cmd, fn ? fn->type : nullptr, fn && fn->encode_result))
      return command_outcome::failed(std::move(err));
    command_outcome out;
    try {
      std::tie(out.error, out.result) = fn->run(state_, cmd.body.get());
    } catch (...) {
      out.error = handler_exception_error();
    }
    // An event emit() refused is the first thing that went wrong, even if
    // the handler then threw.
    if (auto& refused = aggregate_access::refused(state_)) out.error = std::move(refused);
    if (out.error) {
      rollback();
      return out;
    }
    // The payloads move: applying needs only the events themselves (and the
    // type, for errors).
    auto& pending = aggregate_access::pending(state_);
    out.events.reserve(pending.size());
    for (auto& p : pending) out.events.push_back({p.record.type, p.record.schema_version, std::move(p.record.payload)});
    if (auto err = encode_extras(it->second, cmd, out)) {
      rollback();
      return command_outcome::failed(std::move(err));
    }
    return out;
  }

  caf::error commit() override { return apply_pending("the events are committed, but "); }
  caf::error apply_unstored() override { return apply_pending("the events were not stored: "); }

  caf::error apply_pending(const std::string& context) {
    auto& pending = aggregate_access::pending(state_);
    auto batch = std::move(pending);
    pending.clear();
    for (auto& p : batch) {
      try {
        p.apply(state_);
      } catch (...) {
        return exception_error(errc::corrupt_event, context + "apply(" + p.record.type + ") threw");
      }
      ++aggregate_access::version(state_);
    }
    // The emptied list goes back, capacity and all, for the next command.
    batch.clear();
    if (pending.empty()) pending.swap(batch);
    return {};
  }

  void rollback() {
    aggregate_access::pending(state_).clear();
    aggregate_access::refused(state_) = caf::error{};
  }

  // What is stored with the events besides them: the snapshot, if one is
  // due, and an idempotent command's result. Text in them that is not valid
  // UTF-8 fails the command as an event's would (nothing is stored). A state
  // that holds such text (made by apply(), from valid events) so fails every
  // command that takes a snapshot until the code is fixed: storing it would
  // break every reader of the journal, skipping it would hide the bug.
  caf::error encode_extras(const command_fn& fn, const erased_command& cmd, command_outcome& out) const {
    if (!out.events.empty()) {
      auto snapshot = snapshot_if_due();
      if (!snapshot) return std::move(snapshot.error());
      out.snapshot = std::move(*snapshot);
    }
    if (!cmd.idempotent) return {};
    try {
      auto result = fn.encode_result(out.result.get());
      if (!result) return std::move(result.error());
      out.result_json = std::move(*result);
      return {};
    } catch (...) {  // the result type's to_json: its exception must not end the actor
      return exception_error(errc::rejected, "encoding the result of command " + cmd.command_type + " threw");
    }
  }

  std::uint64_t version() const override { return state_.version(); }

  caf::error restore(const snapshot_record& snap) override {
    if constexpr (state_codable<T>) {
      const auto what = "snapshot of " + std::string{type_name_of<T>()} + "/" + state_.id() + " at version " +
                        std::to_string(snap.version);
      if (snap.state_version != state_version_of<T>())
        return make_error(errc::schema_mismatch, what + " has state version " + std::to_string(snap.state_version) +
                                                     ", the code reads version " +
                                                     std::to_string(state_version_of<T>()));
      try {
        T restored = decode_json<T>(snap.state);
        aggregate_access::id(restored) = state_.id();
        aggregate_access::version(restored) = snap.version;
        state_ = std::move(restored);
        return {};
      } catch (const std::exception& ex) {
        return make_error(errc::corrupt_event, what + " does not decode: " + ex.what());
      }
    } else {
      return make_error(errc::schema_mismatch, std::string{type_name_of<T>()}.append(
                                                   " cannot be restored from a snapshot: its state is not "
                                                   "JSON-serialisable"));
    }
  }

  caf::expected<std::shared_ptr<const void>> decode_result(const std::string& command_type,
                                                          const std::string& json) const override {
    auto it = handlers().find(command_type);
    if (it == handlers().end() || !it->second.decode_result)
      return make_error(errc::unknown_command, "aggregate " + std::string{type_name_of<T>()} +
                                                   " cannot decode a stored result of command " + command_type);
    return it->second.decode_result(json);
  }

  bool snapshots_enabled() const override { return policy_.enabled; }
  std::size_t snapshots_kept() const override { return policy_.keep; }

  static const name_map<command_fn>& handlers() {
    static const auto table = make_handlers(static_cast<typename T::commands*>(nullptr));
    return table;
  }

  static const name_map<replay_fn>& appliers() {
    static const auto table = make_appliers(static_cast<typename T::events*>(nullptr));
    return table;
  }

 private:
  template <class... Cs>
  static name_map<command_fn> make_handlers(types<Cs...>*) {
    static_assert((check_command<T, Cs>() && ...));
    name_map<command_fn> table;
    (table.emplace(std::string{type_name_of<Cs>()},
                   command_fn{&typeid(Cs),
                              [](T& self, const void* body) {
                                const auto& cmd = *static_cast<const Cs*>(body);
                                using H = decltype(self.handle(cmd));
                                return invoke_handler<result_of_t<Cs>, H>([&]() -> H { return self.handle(cmd); });
                              },
                              result_encoder<Cs>(), result_decoder<result_of_t<Cs>>()}),
     ...);
    return table;
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
        } catch (const std::exception& ex) {
          return make_error(errc::corrupt_event, std::string{"a stored command result does not decode: "} + ex.what());
        }
      };
    else return nullptr;
  }

  template <class... Es>
  static name_map<replay_fn> make_appliers(types<Es...>*) {
    static_assert((check_event<T, Es>() && ...));
    name_map<replay_fn> table;
    (table.emplace(std::string{type_name_of<Es>()}, +[](T& self, const event_view& e) -> caf::error {
       auto ev = decode_event<Es>(e);
       if (!ev) return ev.error();
       try {
         self.apply(*ev);
       } catch (...) {
         return exception_error(errc::corrupt_event, describe_event(e) + ": apply() threw");
       }
       return {};
     }),
     ...);
    return table;
  }

  struct snapshot_policy {
    bool enabled = false;
    std::uint64_t every = 0;
    std::size_t keep = 2;
  };

  // The type's own declarations win over the runtime's defaults.
  static snapshot_policy policy_for(const snapshot_settings& defaults) {
    snapshot_policy p;
    p.every = defaults.every;
    if constexpr (declares_snapshot_every<T>) p.every = T::snapshot_every;
    p.keep = defaults.keep;
    if constexpr (declares_snapshot_keep<T>) p.keep = std::max<std::size_t>(1, T::snapshot_keep);
    p.enabled = state_codable<T> && (p.every > 0 || declares_snapshot_when<T>);
    return p;
  }

  // The state after the pending events, encoded, if any of them crosses the
  // policy's threshold. The events are applied to a copy: the real state
  // changes only once the journal has committed them.
  caf::expected<std::optional<snapshot_record>> snapshot_if_due() const {
    if constexpr (state_codable<T>) {
      if (!policy_.enabled) return std::nullopt;
      const auto& pending = aggregate_access::pending(state_);
      auto version = state_.version();
      bool due = false;
      if constexpr (!declares_snapshot_when<T>) {
        due = (version + pending.size()) / policy_.every > version / policy_.every;
        if (!due) return std::nullopt;
      }
      try {
        T next = state_;
        aggregate_access::pending(next).clear();
        for (auto& p : pending) {
          p.apply(next);
          ++version;
          if constexpr (declares_snapshot_when<T>)
            due = due || next.snapshot_when(p.record.type, version) ||
                  (policy_.every > 0 && version % policy_.every == 0);
        }
        aggregate_access::version(next) = version;
        if (!due) return std::nullopt;
        auto state = encode_text(next, [&] {
          return "snapshot of " + std::string{type_name_of<T>()} + "/" + state_.id() + " at version " +
                 std::to_string(version);
        });
        if (!state) return std::move(state.error());
        return snapshot_record{version, state_version_of<T>(), std::move(*state), 0};
      } catch (...) {
        return std::nullopt;  // commit() applies the same events and reports the failure
      }
    } else {
      return std::nullopt;
    }
  }

  snapshot_policy policy_;
  T state_;
  std::string_view last_type_;        // the type replay() applied last...
  replay_fn last_applier_ = nullptr;  // ...and its applier
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
  aggregate_model<T>::handlers();  // instantiates the compile-time checks
  aggregate_model<T>::appliers();
  auto kind = std::make_shared<aggregate_kind>();
  kind->type_name = std::string{type_name_of<T>()};
  for (auto& [name, fn] : aggregate_model<T>::handlers()) kind->command_types.push_back(name);
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
