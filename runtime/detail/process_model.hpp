// process_model<T>: model/process_instance.hpp for a user's processor or saga
// type T, from its `events` and `commands` lists; make_process_kind<T>()
// registers it. What does not depend on T (the SQL, the command ids, the
// outbox) is process_model_base, compiled once in the library
// (runtime/detail/process_model.cpp).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <interlock/model/process_instance.hpp>
#include <interlock/persistence/stored_event.hpp>
#include <interlock/runtime/detail/aggregate_model.hpp>
#include <interlock/runtime/detail/process_core.hpp>
#include <interlock/runtime/detail/projection_model.hpp>
#include <interlock/runtime/processor.hpp>
#include <interlock/runtime/saga.hpp>

namespace interlock::detail {

struct process_access {
  static std::vector<decided_command>& decided(process_core& p) { return p.decided_; }
  static caf::error& refused(process_core& p) { return p.refused_; }
  static std::optional<std::chrono::milliseconds>& deadline(process_core& p) { return p.deadline_; }
  static bool& completed(process_core& p) { return p.completed_; }
  static std::string& key(process_core& p) { return p.key_; }
};

template <class P, class E>
concept starts_with_envelope = requires(P& p, const E& e, const event_envelope& env) { p.start(e, env); };
template <class P, class E>
concept starts_on = requires(P& p, const E& e) { p.start(e); };
template <class P, class C>
concept handles_refusal = requires(P& p, const C& c, const std::string& reason) { p.rejected(c, reason); };

template <class P, class E>
concept names_conversation_of = requires(const E& e, const event_envelope& env) {
  { P::conversation(e, env) } -> std::convertible_to<std::string>;
};
template <class P>
concept names_conversations = requires(const event_envelope& env) {
  { P::conversation(env) } -> std::convertible_to<std::string>;
};

template <class T>
constexpr bool is_saga_v = std::is_base_of_v<saga<T>, T>;

/// What the runtime knows of a process type, by type name: built once per
/// type, searched in the library.
struct process_type_info {
  using event_fn = caf::error (*)(process_core& self, const event_view& e, const event_envelope& env);
  /// The conversation an event belongs to (a saga's own conversation()).
  using key_fn = caf::expected<std::string> (*)(const event_view& e, const event_envelope& env);
  struct consumer {
    event_fn fn;
    bool starts;        // a saga's start(): opens a conversation
    key_fn key;         // null: the event's correlation id
  };
  using refusal_fn = caf::error (*)(process_core& self, const std::string& body, const std::string& reason);
  using decoded = std::pair<std::shared_ptr<const void>, const std::type_info*>;
  using decode_fn = caf::expected<decoded> (*)(const std::string& body);

  std::string_view type_name;
  bool is_saga = false;
  name_map<consumer> consumers;
  name_map<refusal_fn> refusals;  // the command types a saga has rejected() for
  name_map<decode_fn> commands;   // every type in `commands`
};

// Compiled once in the library (process_model.cpp).
/// Inside a catch block: errc::corrupt_event, the command stored in the outbox does not decode.
caf::error outbox_decode_error(std::string_view command_type);
/// Inside a catch block: errc::rejected, T's rejected() or deadline_passed() threw.
caf::error process_handler_error(std::string_view process, std::string_view handler);

/// process_instance for any process type, compiled once in the library.
class process_model_base : public process_instance {
 public:
  caf::error apply(const event_view& e, event_envelope& scratch) override;
  query_outcome answer(const erased_query& q) override;
  bool reads_ids() const override { return true; }
  void attach(read_db* db) override { db_ = db; }
  caf::error create_tables() override;
  caf::error reset_tables() override;
  caf::expected<std::string> snapshot() const override;
  void transaction_ended(bool committed) override;
  caf::error commands_done(const std::vector<std::int64_t>& ids) override;
  caf::error command_refused(const outbox_row& row, const std::string& reason) override;
  caf::error deadline_due(const std::string& key, std::int64_t due_us, std::int64_t seen_id,
                          bool& held_back) override;
  caf::error publish_pending() override;
  caf::expected<process_type_info::decoded> decode_command(const outbox_row& row) const override;
  /// Whether saga conversation `key` is open (its state stored); for the test kit.
  bool has_conversation(const std::string& key);

 protected:
  process_model_base(const process_type_info& info, std::shared_ptr<process_link> link)
      : info_(&info), link_(std::move(link)) {}
  /// The object a step runs on: for a saga a fresh one (its state then read
  /// into it), for a processor always the same.
  virtual process_core& fresh() = 0;
  /// Saga only: its state from / to JSON.
  virtual caf::error read_state(std::string_view json) = 0;
  virtual caf::expected<std::string> write_state() = 0;
  /// Saga only: runs its deadline_passed() on `self`.
  virtual caf::error deadline_passed(process_core& self) = 0;

 private:
  struct step;
  caf::error run_step(step& s, const std::function<caf::error(process_core&)>& handler);
  caf::error store_decisions(step& s, process_core& self);
  caf::error store_commands(const step& s, std::vector<decided_command> commands);
  caf::error store_state(step& s, process_core& self);

  const process_type_info* info_;
  std::shared_ptr<process_link> link_;
  read_db* db_ = nullptr;
  process_news news_;  // of the transaction running: published once it commits
  std::uint64_t applied_position_ = 0;  // of the event applied last in this transaction...
  std::uint32_t part_ = 0;               // ...and which part of it (an upcaster's split)
};

template <class T>
class process_model final : public process_model_base {
 public:
  explicit process_model(std::function<T()> factory, std::shared_ptr<process_link> link)
      : process_model_base(info(), std::move(link)), factory_(std::move(factory)), object_(factory_()) {}

  static const process_type_info& info() {
    static const process_type_info table =
        make_info(static_cast<typename T::events*>(nullptr), static_cast<typename T::commands*>(nullptr));
    return table;
  }

 protected:
  process_core& fresh() override {
    if constexpr (is_saga_v<T>) object_ = factory_();
    return object_;
  }
  caf::error read_state(std::string_view json) override {
    if constexpr (is_saga_v<T>) {
      try {
        decode_json_into(json, object_);
      } catch (const std::exception& ex) {
        return make_error(errc::corrupt_event, "the stored state of saga " + std::string{type_name_of<T>()} +
                                                   " does not decode: " + ex.what());
      }
    }
    return {};
  }
  caf::error deadline_passed(process_core& core) override {
    if constexpr (requires(T& t) { t.deadline_passed(); }) {
      try {
        static_cast<T&>(core).deadline_passed();
      } catch (...) {
        return process_handler_error(type_name_of<T>(), "deadline_passed");
      }
    }
    return {};
  }
  caf::expected<std::string> write_state() override {
    if constexpr (is_saga_v<T>) return encode_text(object_, [] { return "the state of saga " + std::string{type_name_of<T>()}; });
    else return std::string{};
  }

 private:
  template <class... Es, class... Cs>
  static process_type_info make_info(types<Es...>*, types<Cs...>*) {
    static_assert((check_event<Es>() && ...));
    static_assert((json_codable<Cs> && ...), "a command a process dispatches must have a JSON form (INTERLOCK_JSON)");
    process_type_info table;
    table.type_name = type_name_of<T>();
    table.is_saga = is_saga_v<T>;
    (table.consumers.emplace(type_name_of<Es>(),
                             process_type_info::consumer{&consume<Es>, starts_with_envelope<T, Es> || starts_on<T, Es>,
                                                         key_of<Es>()}),
     ...);
    (add_command<Cs>(table), ...);
    return table;
  }

  template <class E>
  static constexpr bool check_event() {
    if constexpr (is_saga_v<T>)
      static_assert(starts_with_envelope<T, E> || starts_on<T, E> || consumes_with_envelope<T, E> || consumes<T, E>,
                    "saga lists an event in `events` but has no start(const E&[, const event_envelope&]) or "
                    "on(const E&[, const event_envelope&])");
    else
      static_assert(consumes_with_envelope<T, E> || consumes<T, E>,
                    "processor lists an event in `events` but has no on(const E&[, const event_envelope&])");
    static_assert(json_codable<E>, "an event must have a JSON form (INTERLOCK_JSON)");
    return true;
  }

  template <class E>
  static constexpr process_type_info::key_fn key_of() {
    if constexpr (names_conversation_of<T, E>)
      return +[](const event_view& e, const event_envelope& env) -> caf::expected<std::string> {
        auto ev = decode_event<E>(e);
        if (!ev) return std::move(ev.error());
        return std::string{T::conversation(*ev, env)};
      };
    else if constexpr (names_conversations<T>)
      return +[](const event_view&, const event_envelope& env) -> caf::expected<std::string> {
        return std::string{T::conversation(env)};
      };
    else return nullptr;
  }

  template <class C>
  static void add_command(process_type_info& table) {
    table.commands.emplace(type_name_of<C>(), &decode<C>);
    if constexpr (handles_refusal<T, C>) table.refusals.emplace(type_name_of<C>(), &refused<C>);
  }

  template <class E>
  static caf::error consume(process_core& core, const event_view& e, const event_envelope& env) {
    auto ev = decode_event<E>(e);
    if (!ev) return ev.error();
    auto& self = static_cast<T&>(core);
    try {
      if constexpr (starts_with_envelope<T, E>) self.start(*ev, env);
      else if constexpr (starts_on<T, E>) self.start(*ev);
      else if constexpr (consumes_with_envelope<T, E>) self.on(*ev, env);
      else self.on(*ev);
    } catch (...) {
      return consumer_exception_error(e, type_name_of<T>());
    }
    return {};
  }

  template <class C>
  static caf::expected<process_type_info::decoded> decode(const std::string& body) {
    try {
      return process_type_info::decoded{std::make_shared<const C>(decode_json<C>(body)), &typeid(C)};
    } catch (...) {
      return outbox_decode_error(type_name_of<C>());
    }
  }

  template <class C>
  static caf::error refused(process_core& core, const std::string& body, const std::string& reason) {
    C cmd;
    try {
      cmd = decode_json<C>(body);
    } catch (...) {
      return outbox_decode_error(type_name_of<C>());
    }
    try {
      static_cast<T&>(core).rejected(cmd, reason);
    } catch (...) {
      return process_handler_error(type_name_of<T>(), "rejected");
    }
    return {};
  }

  std::function<T()> factory_;
  T object_;

  friend class process_model_base;
};

/// Registers process type T as a durable projection of the runtime's own tables.
template <class T>
std::pair<std::shared_ptr<const projection_kind>, std::shared_ptr<process_link>> make_process_kind(
    std::function<T()> factory) {
  static_assert(std::is_base_of_v<processor<T>, T> || is_saga_v<T>,
                "a process derives from interlock::processor<Self> or interlock::saga<Self>");
  if constexpr (is_saga_v<T>)
    static_assert(state_codable<T>, "a saga's state is stored as JSON: INTERLOCK_JSON(T, fields...)");
  process_model<T>::info();
  auto link = std::make_shared<process_link>();
  auto kind = std::make_shared<projection_kind>();
  kind->type_name = std::string{type_name_of<T>()};
  kind->durable = true;
  kind->rebuild_in_place = true;  // its rows share tables with other processes' (and a shadow's commands must not go out)
  set_reading_policy<T>(*kind);
  kind->registration_error =
      list_error<typename T::commands, typename T::events>((is_saga_v<T> ? "saga " : "processor ") + kind->type_name,
                                                           "command");
  kind->make = [factory, link]() -> std::unique_ptr<projection_instance> {
    return std::make_unique<process_model<T>>(factory, link);
  };
  return {kind, link};
}

}  // namespace interlock::detail
