#include <interlock/core/errors.hpp>

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/make_message.hpp>
#include <caf/sec.hpp>

namespace interlock {

caf::atom_value error_category() { return caf::atom("interlock"); }

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<std::uint8_t>(code), error_category(),
                    caf::make_message(std::move(message))};
}

std::optional<errc> code_of(const caf::error& err) {
  if (!err || err.category() != error_category()) return std::nullopt;
  return static_cast<errc>(err.code());
}

std::string message_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
  return {};
}

const char* to_string(errc code) {
  switch (code) {
    case errc::rejected: return "rejected";
    case errc::conflict: return "conflict";
    case errc::unknown_command: return "unknown_command";
    case errc::unknown_query: return "unknown_query";
    case errc::unknown_event_type: return "unknown_event_type";
    case errc::corrupt_event: return "corrupt_event";
    case errc::schema_mismatch: return "schema_mismatch";
    case errc::storage: return "storage";
    case errc::timeout: return "timeout";
    case errc::invalid_argument: return "invalid_argument";
    case errc::unavailable: return "unavailable";
  }
  return "unknown_error";
}

std::string describe(const caf::error& err) {
  if (!err) return "no error";
  if (auto code = code_of(err)) {
    auto msg = message_of(err);
    return msg.empty() ? std::string{to_string(*code)} : std::string{to_string(*code)} + ": " + msg;
  }
  if (err.category() == caf::atom("system")) {
    auto text = caf::to_string(static_cast<caf::sec>(err.code()));
    return "system_error: " + text;
  }
  return caf::to_string(err);
}

}  // namespace interlock
