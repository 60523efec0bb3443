// What the journal writer takes: append requests, committed in one batch
// with other jobs' requests, and what to do once they are stored. Internal.
//
// The writer knows nothing else of a job: not who asked, not what the
// requests mean. It calls completed() exactly once per job taken, on its own
// thread, after every job taken before it (a job without requests included:
// it completes after the jobs before it, so it can stand for "everything
// sent before this is done"). A job the writer never takes (it had stopped)
// is only destroyed: a job that owes answers gives them in its destructor.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <interlock/persistence/journal.hpp>

namespace interlock::detail {

class append_job {
 public:
  std::vector<append_request> requests;

  virtual ~append_job() = default;

  /// `results` holds the outcome of each request, in order; `writer` is the
  /// writer itself (replies sent from here go out in its name).
  virtual void completed(std::span<caf::expected<append_result>> results, caf::local_actor* writer) = 0;
};

using append_job_ptr = std::shared_ptr<append_job>;

}  // namespace interlock::detail
