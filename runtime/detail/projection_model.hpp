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

template <class P, class E>
constexpr bool check_projected_event() {
  static_assert(consumes_with_envelope<P, E> || consumes<P, E>,
                "projection lists an event in `events` but has no on(const E&[, const event_envelope&])");
  static_assert(json_codable<E>, "an event must have a JSON form: INTERLOCK_JSON, or nlohmann to_json/from_json with <interlock/runtime/nlohmann_json.hpp> included, or no fields");
  return true;
}

template <class P, class Q>
constexpr bool check_query() {
  static_assert(answers<P, Q>, "projection lists a query in `queries` but has no handle(const Q&)");
  static_assert(has_result_type<Q>, "a query must declare `using result_type = R;` (or derive from interlock::query<R>)");
  static_assert(json_codable<Q>, "a query must have a JSON form: INTERLOCK_JSON, or nlohmann to_json/from_json with <interlock/runtime/nlohmann_json.hpp> included, or no fields");
  return true;
}

// Compiled once in the library (runtime/detail/model_errors.cpp).
/// Why `q` cannot be answered by projection `projection`, whose handler for
/// its type name takes C++ type `handled` (null: no handler); none if it can.
caf::error check_query_fits(std::string_view projection, const erased_query& q, const std::type_info* handled);
/// Inside a catch block around a query handler.
caf::error query_exception_error(const erased_query& q);

template <class P>
class projection_model final : public projection_instance {
 public:
  using event_fn = caf::error (*)(P&, const event_view&, event_envelope&);
  struct query_fn {
    const std::type_info* type;
    std::function<std::pair<caf::error, std::shared_ptr<const void>>(P&, const void*)> run;
  };

  explicit projection_model(P initial) : state_(std::move(initial)) {}

  caf::error apply(const event_view& e, event_envelope& scratch) override {
    if (!seen_a_type_ || e.event_type != last_type_) {  // the journal holds runs of one type: skip the hash then
      auto it = consumers().find(e.event_type);
      last_consumer_ = it == consumers().end() ? nullptr : it->second;
      last_type_ = e.event_type;
      seen_a_type_ = true;
    }
    return last_consumer_ ? last_consumer_(state_, e, scratch) : caf::error{};
  }

  bool reads_ids() const override { return takes_envelope(static_cast<typename P::events*>(nullptr)); }

  query_outcome answer(const erased_query& q) override {
    auto it = queries().find(q.query_type);
    const auto* fn = it == queries().end() ? nullptr : &it->second;
    if (auto err = check_query_fits(type_name_of<P>(), q, fn ? fn->type : nullptr)) return {std::move(err), nullptr};
    try {
      auto [err, result] = fn->run(state_, q.body.get());
      return {std::move(err), std::move(result)};
    } catch (...) {
      return {query_exception_error(q), nullptr};
    }
  }

  static const name_map<event_fn>& consumers() {
    static const auto table = make_consumers(static_cast<typename P::events*>(nullptr));
    return table;
  }

  static const name_map<query_fn>& queries() {
    static const auto table = make_queries(static_cast<typename P::queries*>(nullptr));
    return table;
  }

 private:
  template <class E>
  static caf::error consume(P& self, const event_view& e, event_envelope& scratch) {
    auto ev = decode_event<E>(e);
    if (!ev) return ev.error();
    try {
      if constexpr (consumes_with_envelope<P, E>) {
        fill_envelope(e, scratch);
        self.on(*ev, static_cast<const event_envelope&>(scratch));
      } else {
        self.on(*ev);
      }
    } catch (...) {
      return exception_error(errc::corrupt_event,
                             describe_event(e) + ": projection " + std::string{type_name_of<P>()} + " on() threw");
    }
    return {};
  }

  template <class... Es>
  static constexpr bool takes_envelope(types<Es...>*) {
    return (consumes_with_envelope<P, Es> || ...);
  }

  template <class... Es>
  static name_map<event_fn> make_consumers(types<Es...>*) {
    static_assert((check_projected_event<P, Es>() && ...));
    return {{std::string{type_name_of<Es>()}, &consume<Es>}...};
  }

  template <class... Qs>
  static name_map<query_fn> make_queries(types<Qs...>*) {
    static_assert((check_query<P, Qs>() && ...));
    name_map<query_fn> table;
    (table.emplace(std::string{type_name_of<Qs>()}, query_fn{&typeid(Qs), [](P& self, const void* body) {
                     const auto& q = *static_cast<const Qs*>(body);
                     using H = decltype(self.handle(q));
                     return invoke_handler<result_of_t<Qs>, H>([&]() -> H { return self.handle(q); });
                   }}),
     ...);
    return table;
  }

  P state_;
  bool seen_a_type_ = false;
  std::string last_type_;             // the type apply() saw last...
  event_fn last_consumer_ = nullptr;  // ...and its consumer, or none
};

template <class P, class Factory>
std::shared_ptr<const projection_kind> make_projection_kind(Factory factory) {
  projection_model<P>::consumers();  // instantiates the compile-time checks
  projection_model<P>::queries();
  auto kind = std::make_shared<projection_kind>();
  kind->type_name = std::string{type_name_of<P>()};
  for (auto& [name, fn] : projection_model<P>::queries()) kind->query_types.push_back(name);
  kind->event_types = event_bindings(static_cast<typename P::events*>(nullptr));
  kind->registration_error = list_error<typename P::queries, typename P::events>("projection " + kind->type_name, "query");
  kind->make = [factory]() -> std::unique_ptr<projection_instance> {
    return std::make_unique<projection_model<P>>(factory());
  };
  return kind;
}

}  // namespace interlock::detail
