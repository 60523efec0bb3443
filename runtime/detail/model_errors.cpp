// The cold paths of aggregate_model<T> and projection_model<P>: compiled once
// here instead of in every user translation unit that registers a type.
#include <interlock/runtime/detail/model_errors.hpp>
#include <interlock/runtime/detail/projection_model.hpp>

#include <exception>

namespace interlock::detail {

caf::error exception_error(errc code, std::string what) {
  try {
    throw;
  } catch (const std::exception& ex) {
    return make_error(code, what.append(": ").append(ex.what()));
  } catch (...) {
    return make_error(code, what.append(" a non-standard exception"));
  }
}

caf::error handler_exception_error() {
  try {
    throw;
  } catch (const std::exception& ex) {
    return make_error(errc::rejected, ex.what());
  } catch (...) {
    return make_error(errc::rejected, "command handler threw a non-standard exception");
  }
}

namespace {

// The message's type name is registered for another C++ type than the one
// sent (two types share a name): `message` ("command"), `owner` ("aggregate X"),
// `verb` ("handles").
caf::error type_mismatch(errc code, const char* message, const std::string& name, const char* owner_kind,
                         std::string_view owner, const char* verb) {
  return make_error(code, std::string{"the "}.append(message).append(" type named ").append(name).append(
                              " is not the C++ type ").append(owner_kind).append(" ").append(owner).append(" ").append(
                              verb).append(" under that name; give one of them its own `type_name`"));
}

}  // namespace

caf::error check_command_fits(std::string_view aggregate, const erased_command& cmd, const std::type_info* handled,
                              bool result_storable) {
  if (!handled)
    return make_error(errc::unknown_command,
                      std::string{"aggregate "}.append(aggregate).append(" does not handle command ").append(
                          cmd.command_type));
  if (!cmd.body_type || *cmd.body_type != *handled)
    return type_mismatch(errc::unknown_command, "command", cmd.command_type, "aggregate", aggregate, "handles");
  if (cmd.idempotent && !result_storable)
    return make_error(errc::invalid_argument, "command " + cmd.command_type +
                                                  " was given a command_id (idempotency key), but its result type "
                                                  "is not JSON-serialisable, so a retry could not return it");
  return {};
}

caf::error no_applier_error(const event_view& e, std::string_view aggregate) {
  return make_error(errc::unknown_event_type, describe_event(e) + ": aggregate " + std::string{aggregate} +
                                                  " has no event of this type in its `events` list");
}

caf::error check_query_fits(std::string_view projection, const erased_query& q, const std::type_info* handled) {
  if (!handled)
    return make_error(errc::unknown_query,
                      std::string{"projection "}.append(projection).append(" does not answer query ").append(
                          q.query_type));
  if (!q.body_type || *q.body_type != *handled)
    return type_mismatch(errc::unknown_query, "query", q.query_type, "projection", projection, "answers");
  return {};
}

caf::error query_exception_error(const erased_query& q) {
  try {
    throw;
  } catch (const std::exception& ex) {
    return make_error(errc::rejected, "query " + q.query_type + " failed: " + ex.what());
  } catch (...) {
    return make_error(errc::rejected, "query " + q.query_type + " failed with a non-standard exception");
  }
}

}  // namespace interlock::detail
