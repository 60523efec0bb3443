// Given/when/then tests for aggregates, with no actors and no journal.
//
//   interlock::aggregate_test<BankAccount> t;
//   t.given(AccountOpened{"Alice"}, MoneyDeposited{100})
//    .when(WithdrawMoney{30})
//    .then(MoneyWithdrawn{30});
//   t.when(WithdrawMoney{1000}).then_rejected("Insufficient funds");
//
// given() replays events through their JSON encoding, exactly as recovery from
// the journal does; when() runs the command handler and, if it succeeds,
// applies the emitted events as a commit would. A failed expectation throws
// interlock::expectation_failed whose message shows expected and actual, so
// any test framework reports it.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <interlock/runtime/detail/aggregate_model.hpp>
#include <interlock/runtime/expectation_failed.hpp>

namespace interlock {

template <class T>
class aggregate_test {
 public:
  explicit aggregate_test(std::string id = "test-aggregate") : id_(std::move(id)), model_(id_, detail::snapshot_settings{}) {}

  /// Events already in the aggregate's stream.
  template <class... Es>
  aggregate_test& given(const Es&... events) {
    (replay(detail::encode_event(events)), ...);
    return *this;
  }

  /// Runs one command against the current state.
  template <class C>
  aggregate_test& when(C cmd) {
    detail::erased_command erased;
    erased.aggregate_type = std::string{type_name_of<T>()};
    erased.aggregate_id = id_;
    erased.command_type = std::string{type_name_of<C>()};
    erased.body = std::make_shared<const C>(std::move(cmd));
    erased.body_type = &typeid(C);
    result_type_ = &typeid(result_of_t<C>);
    result_name_ = std::string{type_name_of<result_of_t<C>>()} + " (the result of " + erased.command_type + ")";
    outcome_ = model_.execute(erased);
    ran_ = true;
    if (!outcome_.error)
      if (auto err = model_.commit()) fail("applying the emitted events failed: " + describe(err));
    return *this;
  }

  /// The command succeeded and emitted exactly `expected`, in order (compared
  /// by type name and JSON payload). No arguments: it succeeded and emitted nothing.
  template <class... Es>
  aggregate_test& then(const Es&... expected) {
    std::vector<event_record> want{detail::encode_event(expected)...};
    require_ran("then");
    if (outcome_.error) fail("expected events " + show(want) + " but the command failed: " + describe(outcome_.error));
    if (!same(want, outcome_.events)) fail("expected events " + show(want) + " but got " + show(outcome_.events));
    return *this;
  }

  /// The command was rejected and its message contains `message_part`.
  aggregate_test& then_rejected(const std::string& message_part = "") { return then_error(errc::rejected, message_part); }

  /// The command failed with `code` and a message containing `message_part`.
  aggregate_test& then_error(errc code, const std::string& message_part = "") {
    require_ran("then_error");
    if (!outcome_.error) fail(std::string{"expected error "} + to_string(code) + " but the command succeeded with " +
                              show(outcome_.events));
    if (!is(outcome_.error, code) || message_of(outcome_.error).find(message_part) == std::string::npos)
      fail(std::string{"expected error "} + to_string(code) + " containing '" + message_part + "' but got " +
           describe(outcome_.error));
    return *this;
  }

  /// The result of the last command (command<R> with R not void); R must be
  /// the command's result type, else expectation_failed names both.
  template <class R>
  const R& result() const {
    require_ran("result");
    if (*result_type_ != typeid(R))
      fail("result<" + std::string{type_name_of<R>()} + ">() asked for the wrong type: the last command returns " +
           result_name_);
    if (!outcome_.result) fail("the last command returned no result");
    return *std::static_pointer_cast<const R>(outcome_.result);
  }

  const T& state() const { return model_.state(); }
  const std::vector<event_record>& events() const { return outcome_.events; }
  const caf::error& error() const { return outcome_.error; }

 private:
  const std::type_info* result_type_ = &typeid(void);
  std::string result_name_;

  void replay(event_record record) {
    stored_event e;
    e.aggregate_type = std::string{type_name_of<T>()};
    e.aggregate_id = id_;
    e.version = model_.version() + 1;
    e.position = e.version;
    e.event_type = std::move(record.type);
    e.schema_version = record.schema_version;
    e.payload = std::move(record.payload);
    if (auto err = model_.replay(view_of(e))) fail("given: " + describe(err));
  }

  void require_ran(const char* what) const {
    if (!ran_) fail(std::string{what} + "() needs a when() first");
  }

  static bool same(const std::vector<event_record>& a, const std::vector<event_record>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i].type != b[i].type || nlohmann::json::parse(a[i].payload) != nlohmann::json::parse(b[i].payload))
        return false;
    return true;
  }

  static std::string show(const std::vector<event_record>& events) {
    std::string out = "[";
    for (auto& e : events) out += (out.size() > 1 ? ", " : "") + e.type + " " + e.payload;
    return out + "]";
  }

  [[noreturn]] static void fail(const std::string& why) { throw expectation_failed{why}; }

  std::string id_;
  detail::aggregate_model<T> model_;
  detail::command_outcome outcome_;
  bool ran_ = false;
};

}  // namespace interlock
