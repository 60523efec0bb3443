// Given/then tests for projections, with no actors and no journal.
//
//   interlock::projection_test<AccountSummary> t;
//   t.given<BankAccount>("acc-1", AccountOpened{"Alice"}, MoneyDeposited{100})
//    .given<BankAccount>("acc-2", AccountOpened{"Bob"});
//   t.then(GetSummary{"acc-1"}, Summary{"Alice", 100});
//   CHECK(t.query(GetSummary{"acc-2"}).owner == "Bob");
//
// given<A>(id, events...) appends events to stream A/id (versions 1, 2, ...
// per stream, global positions 1, 2, ... across streams; the ids of
// with_ids()) and applies them
// through their JSON encoding and envelope, exactly as catch-up from the
// journal does; events the projection does not list are skipped, as they are
// at run time. A failed expectation throws interlock::expectation_failed
// whose message shows expected and actual, so any test framework reports it.
#pragma once

#include <concepts>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <interlock/runtime/detail/projection_model.hpp>
#include <interlock/runtime/expectation_failed.hpp>

namespace interlock {

template <class P>
class projection_test {
 public:
  explicit projection_test(P initial = P{}) : model_(std::move(initial)) {}

  /// Events of stream A/`aggregate_id`, after those given before.
  template <class A, class... Es>
  projection_test& given(const std::string& aggregate_id, const Es&... events) {
    return given_in(std::string{type_name_of<A>()}, aggregate_id, events...);
  }

  /// The same, with the aggregate type by name.
  template <class... Es>
  projection_test& given_in(const std::string& aggregate_type, const std::string& aggregate_id, const Es&... events) {
    (apply(aggregate_type, aggregate_id, detail::encode_event(events)), ...);
    return *this;
  }

  /// The ids events given from now on carry in their envelopes, as a
  /// command's events do (none by default).
  projection_test& with_ids(std::string command_id, std::string correlation_id = "", std::string causation_id = "") {
    command_id_ = std::move(command_id);
    correlation_id_ = std::move(correlation_id);
    causation_id_ = std::move(causation_id);
    return *this;
  }

  /// What the projection answers to `q`; expectation_failed if it fails.
  template <class Q>
  result_of_t<Q> query(Q q) {
    auto outcome = ask(std::move(q));
    if (outcome.error) fail(std::string{"query "}.append(type_name_of<Q>()) + " failed: " + describe(outcome.error));
    if constexpr (!std::is_void_v<result_of_t<Q>>) return *std::static_pointer_cast<const result_of_t<Q>>(outcome.result);
  }

  /// The projection answers `q` with `expected` (compared with ==, shown as JSON).
  template <class Q, class R = result_of_t<Q>>
  projection_test& then(Q q, const R& expected) {
    static_assert(std::equality_comparable<R>, "then(query, expected) compares results with ==");
    auto actual = query(std::move(q));
    if (!(actual == expected))
      fail(std::string{"query "}.append(type_name_of<Q>()) + ": expected " + show(expected) + " but got " +
           show(actual));
    return *this;
  }

  /// The query fails with `code` and a message containing `message_part`.
  template <class Q>
  projection_test& then_error(Q q, errc code, const std::string& message_part = "") {
    auto outcome = ask(std::move(q));
    if (!is(outcome.error, code) || message_of(outcome.error).find(message_part) == std::string::npos)
      fail(std::string{"query "}.append(type_name_of<Q>()) + ": expected error " + to_string(code) +
           " containing '" + message_part + "' but got " +
           (outcome.error ? describe(outcome.error) : std::string{"an answer"}));
    return *this;
  }

  /// The global position of the last event given (0: none).
  std::uint64_t position() const { return position_; }

 private:
  void apply(const std::string& aggregate_type, const std::string& aggregate_id, const event_record& record) {
    event_view e;
    e.position = ++position_;
    e.aggregate_type = aggregate_type;
    e.aggregate_id = aggregate_id;
    e.version = ++versions_[aggregate_type + "/" + aggregate_id];
    e.event_type = record.type;
    e.schema_version = record.schema_version;
    e.payload = record.payload;
    e.command_id = command_id_;
    e.correlation_id = correlation_id_;
    e.causation_id = causation_id_;
    if (auto err = model_.apply(e, scratch_)) fail("given: " + describe(err));
  }

  template <class Q>
  detail::query_outcome ask(Q q) {
    detail::erased_query erased;
    erased.query_type = std::string{type_name_of<Q>()};
    erased.body = std::make_shared<const Q>(std::move(q));
    erased.body_type = &typeid(Q);
    return model_.answer(erased);
  }

  template <class R>
  static std::string show(const R& value) {
    if constexpr (json_codable<R>) return detail::encode_json(value);
    else return "(a value without a JSON form)";
  }

  [[noreturn]] static void fail(const std::string& why) { throw expectation_failed{why}; }

  detail::projection_model<P> model_;
  event_envelope scratch_;
  std::uint64_t position_ = 0;
  std::map<std::string, std::uint64_t> versions_;  // "Type/id" -> last version given
  std::string command_id_, correlation_id_, causation_id_;  // with_ids()
};

}  // namespace interlock
