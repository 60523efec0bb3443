#include <interlock/actors/messages.hpp>

namespace interlock::detail {

caf::error explain_transport_error(caf::error err, const std::string& what, std::chrono::milliseconds timeout,
                                   bool may_commit) {
  if (code_of(err)) return err;  // already an interlock error that says what went wrong
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout, what + ": no reply within " + std::to_string(timeout.count()) + " ms" +
                                         (may_commit ? "; its outcome is unknown (it may still be committed)" : ""));
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::unavailable, what + ": the receiving actor is down (application stopped?)");
  return make_error(errc::unavailable, what + ": " + describe(err));
}

}  // namespace interlock::detail
