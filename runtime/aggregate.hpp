// The aggregate base class.
//
//   struct BankAccount : interlock::aggregate<BankAccount> {
//     using commands = interlock::types<OpenAccount, DepositMoney>;
//     using events   = interlock::types<AccountOpened, MoneyDeposited>;
//     std::int64_t balance = 0;
//     void handle(const DepositMoney& c) { ...; emit(MoneyDeposited{c.amount}); }
//     void apply(const MoneyDeposited& e) { balance += e.amount; }
//   };
//
// Command handlers decide (validate, emit); event appliers change state.
// A handler that throws emits nothing and leaves the state as it was. The
// events of a handler that succeeds are applied at once, before the journal
// stores them, so that the next command (in the same batch) runs on them; if
// the append then fails, the aggregate reloads its state from the journal
// before it runs another command, so no state ever rests on an event that
// was not stored. Handlers should only read state and emit: the state changes
// in apply(), which replay runs too (a handler that assigns to members would
// diverge from the journal). Every listed command needs a `handle(const C&)`
// and every listed event an `apply(const E&)`; a missing one is a compile
// error naming the type. The type must be default-constructible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <interlock/runtime/detail/codec.hpp>
#include <interlock/runtime/types.hpp>

namespace interlock {
namespace detail {

struct aggregate_access;

/// An event a handler emitted: stored, then applied to the aggregate object.
struct pending_event {
  event_record record;
  std::function<void(void* aggregate)> apply;  // the Derived object
};

/// What every aggregate holds besides its own state. Not a template, so that
/// the runtime's code that drives an aggregate is compiled once, in the library.
class aggregate_core {
 public:
  /// The aggregate id (the stream id within its type).
  const std::string& id() const noexcept { return id_; }
  /// The stream version of the state: how many events have been applied.
  std::uint64_t version() const noexcept { return version_; }

 protected:
  /// Keeps an emitted event, or the first refusal (`payload` an error).
  void record_emitted(caf::expected<std::string> payload, std::string_view type, std::uint32_t schema_version,
              std::function<void(void*)> apply);

 private:
  friend struct aggregate_access;
  std::string id_;
  std::uint64_t version_ = 0;
  std::vector<pending_event> pending_;
  caf::error refused_;  // the first event emit() refused during the running command
};

}  // namespace detail

template <class Derived>
class aggregate : public detail::aggregate_core {
 protected:
  /// Records `event` as an outcome of the running command. An event with a
  /// string that is not valid UTF-8 is not recorded, and the command fails
  /// with errc::invalid_argument naming the field once the handler returns
  /// (not with an exception here: a handler that catches everything would go
  /// on as if the event were emitted).
  template <class E>
  void emit(E event) {
    static_assert(contains_v<E, typename Derived::events>,
                  "emit(): the event type is not listed in the aggregate's `events`");
    auto payload = detail::encode_text(event, [] { return "event " + std::string{type_name_of<E>()}; });
    record_emitted(std::move(payload), type_name_of<E>(), schema_version_of<E>(),
           [e = std::move(event)](void* self) { static_cast<Derived*>(self)->apply(e); });
  }
};

}  // namespace interlock
