#include <interlock/persistence/read_store_checks.hpp>

#include <interlock/core/detail/utf8.hpp>
#include <interlock/core/errors.hpp>

namespace interlock::detail {

caf::error check_projection_name(std::string_view name) {
  auto problem = identifier_problem("projection name", name);
  if (problem.empty()) return {};
  return make_error(errc::invalid_argument, "read store: " + problem);
}

caf::error check_checkpoint(std::string_view name, const projection_checkpoint& cp) {
  if (auto err = check_projection_name(name)) return err;
  auto bad = utf8_error_at(cp.state);
  if (bad == std::string_view::npos) return {};
  return make_error(errc::invalid_argument, std::string{"read store: the state of projection "}
                                                .append(name)
                                                .append(" is not valid UTF-8 (")
                                                .append(describe_utf8_error(cp.state[bad], bad))
                                                .append(")"));
}

}  // namespace interlock::detail
