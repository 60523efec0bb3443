// Which streams' chains of after_previous requests are broken: the journals'
// memory for append_request::after_previous. Internal to the journals.
#pragma once

#include <string>
#include <unordered_set>

#include <interlock/persistence/journal.hpp>

namespace interlock::detail {

/// A request flagged after_previous rests on the events of the last request
/// of its stream this journal was given (an aggregate sends its next batch
/// before the last one is answered). It is tried only if that request was
/// appended, in the same batch or an earlier one.
class append_chain {
 public:
  bool empty() const { return broken_.empty(); }
  /// Whether `req` must fail untried: the request it rests on failed.
  bool broken(const append_request& req) const {
    return req.after_previous && !broken_.empty() && broken_.count(key(req)) > 0;
  }
  /// What became of `req`: a failure breaks its stream's chain, an append
  /// mends it. (Empty almost always: failures are rare, so the common case
  /// costs one test.)
  void record(const append_request& req, bool appended) {
    if (!appended) broken_.insert(key(req));
    else if (!broken_.empty()) broken_.erase(key(req));
  }

 private:
  static std::string key(const append_request& req) { return req.aggregate_type + '\0' + req.aggregate_id; }
  std::unordered_set<std::string> broken_;
};

}  // namespace interlock::detail
