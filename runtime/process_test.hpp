// Given/then tests for event processors and sagas, with no actors and no
// journal: given events, then the process dispatches these commands.
//
//   interlock::process_test<TransferSaga> t;
//   t.in_conversation("t1")
//    .given<Transfer>("t1", TransferRequested{"alice", "bob", 30})
//    .then_dispatches(interlock::sent("alice", Debit{30}))
//    .given<Account>("alice", Debited{30})
//    .then_dispatches(interlock::sent("bob", Credit{30}));
//   t.when_rejected("bob", Credit{30}, "bob takes no credits")
//    .then_dispatches(interlock::sent("alice", Refund{30}), interlock::sent("t1", FailTransfer{...}))
//    .then_completed("t1");
//
// given<A>(id, events...) appends events to stream A/id (versions and global
// positions as projection_test gives them), each as if its own command
// emitted it: command id "command-<position>", and correlation id that
// command's id, or the conversation named by in_conversation(). They go
// through the process's handlers as at run time: each step in a transaction
// of an in-memory read store, its commands seen once it commits.
// then_dispatches(sent(...)...) checks the commands decided since the last
// check, in order (type, target, JSON); when_rejected(id, cmd, reason) refuses
// a command decided before (rejected() runs); when_deadline_passes(c) fires
// conversation c's deadline. A failed expectation throws
// interlock::expectation_failed showing expected and actual.
#pragma once

#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <interlock/runtime/detail/process_model.hpp>
#include <interlock/runtime/detail/process_test_store.hpp>
#include <interlock/runtime/expectation_failed.hpp>

namespace interlock {

/// A command a process is expected to dispatch: `command` to aggregate `aggregate_id`.
template <class C>
struct sent {
  sent(std::string id, C cmd) : aggregate_id(std::move(id)), command(std::move(cmd)) {}
  std::string aggregate_id;
  C command;
};

template <class T>
class process_test {
 public:
  explicit process_test(T initial = T{}) : link_(std::make_shared<detail::process_link>()) {
    link_->publish = [this](detail::process_news_ptr news) { take(*news); };
    model_ = std::make_unique<detail::process_model<T>>([initial] { return initial; }, link_);
    check(store_.open(*model_), "opening the process");
  }
  process_test(const process_test&) = delete;
  process_test& operator=(const process_test&) = delete;

  /// Events given from now on belong to conversation `correlation_id` ("": each its own command's).
  process_test& in_conversation(std::string correlation_id) {
    conversation_ = std::move(correlation_id);
    return *this;
  }

  /// Events of stream A/`aggregate_id`, after those given before.
  template <class A, class... Es>
  process_test& given(const std::string& aggregate_id, const Es&... events) {
    (apply(std::string{type_name_of<A>()}, aggregate_id, detail::encode_event(events)), ...);
    return *this;
  }

  /// The commands decided since the last then_dispatches(), exactly these, in order.
  template <class... Cs>
  process_test& then_dispatches(const sent<Cs>&... expected) {
    std::vector<std::string> want{describe(expected.aggregate_id, std::string{type_name_of<Cs>()},
                                           detail::encode_json(expected.command))...};
    std::vector<std::string> got;
    for (auto& row : std::exchange(decided_, {})) got.push_back(describe(row.aggregate_id, row.command_type, row.body));
    if (want != got) fail("expected the commands " + join(want) + " but the process dispatched " + join(got));
    return *this;
  }

  /// Command `cmd` to `aggregate_id`, decided before, is refused with `reason`.
  template <class C>
  process_test& when_rejected(const std::string& aggregate_id, const C& cmd, const std::string& reason) {
    const auto body = detail::encode_json(cmd);
    for (auto it = outstanding_.begin(); it != outstanding_.end(); ++it) {
      if (it->aggregate_id != aggregate_id || it->command_type != type_name_of<C>() || it->body != body) continue;
      auto row = *it;
      outstanding_.erase(it);
      check(store_.run(*model_, [&] { return model_->command_refused(row, "rejected: " + reason); }), "rejected()");
      return *this;
    }
    fail("when_rejected: no command " + describe(aggregate_id, std::string{type_name_of<C>()}, body) +
         " was dispatched and not yet refused");
  }

  /// Conversation `conversation_id`'s deadline comes (it must have one).
  process_test& when_deadline_passes(const std::string& conversation_id) {
    auto it = deadlines_.find(conversation_id);
    if (it == deadlines_.end()) fail("when_deadline_passes: conversation " + conversation_id + " has no deadline");
    const auto due = it->second;
    bool held_back = false;  // the test's outbox is all known: nothing holds it back
    check(store_.run(*model_,
                     [&] {
                       return model_->deadline_due(conversation_id, due, std::numeric_limits<std::int64_t>::max(),
                                                   held_back);
                     }),
          "deadline_passed()");
    return *this;
  }

  /// Whether conversation `conversation_id` has a deadline set.
  bool has_deadline(const std::string& conversation_id) const { return deadlines_.count(conversation_id) > 0; }

  /// The saga completed conversation `conversation_id` (or never opened it).
  process_test& then_completed(const std::string& conversation_id) {
    if (open(conversation_id)) fail("conversation " + conversation_id + " is still open");
    return *this;
  }

  /// Whether conversation `conversation_id` is open (its state stored).
  bool open(const std::string& conversation_id) {
    bool found = false;
    check(store_.run(*model_, [&] {
            found = model_->has_conversation(conversation_id);
            return caf::error{};
          }),
          "reading the state");
    return found;
  }

 private:
  void apply(const std::string& aggregate_type, const std::string& aggregate_id, const event_record& record) {
    event_view e;
    e.position = ++position_;
    const auto command_id = "command-" + std::to_string(e.position);
    e.aggregate_type = aggregate_type;
    e.aggregate_id = aggregate_id;
    e.version = ++versions_[aggregate_type + "/" + aggregate_id];
    e.event_type = record.type;
    e.schema_version = record.schema_version;
    e.payload = record.payload;
    e.command_id = command_id;
    e.correlation_id = conversation_.empty() ? command_id : conversation_;
    check(store_.run(*model_, [&] { return model_->apply(e, scratch_); }), "given");
  }

  void take(const detail::process_news& news) {
    for (auto& row : news.commands) {
      decided_.push_back(row);
      outstanding_.push_back(row);
    }
    for (auto& d : news.deadlines) {
      if (d.due_us == 0) deadlines_.erase(d.key);
      else deadlines_[d.key] = d.due_us;
    }
  }

  static std::string describe(const std::string& id, const std::string& type, const std::string& body) {
    return type + " " + body + " to " + id;
  }
  static std::string join(const std::vector<std::string>& all) {
    if (all.empty()) return "(none)";
    std::string out;
    for (auto& s : all) out += (out.empty() ? "" : ", ") + s;
    return out;
  }
  static void check(const caf::error& err, const std::string& what) {
    if (err) fail(what + ": " + interlock::describe(err));
  }
  [[noreturn]] static void fail(const std::string& why) { throw expectation_failed{why}; }

  std::shared_ptr<detail::process_link> link_;
  std::unique_ptr<detail::process_model<T>> model_;
  detail::process_test_store store_;
  event_envelope scratch_;
  std::string conversation_;
  std::uint64_t position_ = 0;
  std::map<std::string, std::uint64_t> versions_;
  std::vector<detail::outbox_row> decided_;      // since the last then_dispatches()
  std::vector<detail::outbox_row> outstanding_;  // not refused
  std::map<std::string, std::int64_t> deadlines_;
};

}  // namespace interlock
