#include <interlock/runtime/detail/aggregate_model.hpp>

#include <algorithm>

namespace interlock::detail {
namespace {

std::string first_duplicate(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  auto it = std::adjacent_find(names.begin(), names.end());
  return it == names.end() ? std::string{} : *it;
}

}  // namespace

std::string list_error(const std::string& owner, const char* commands_label, std::vector<std::string> commands,
                       std::vector<std::string> events) {
  if (auto dup = first_duplicate(std::move(commands)); !dup.empty())
    return owner + " lists two " + commands_label + " types named " + dup + "; give one of them its own `type_name`";
  if (auto dup = first_duplicate(std::move(events)); !dup.empty())
    return owner + " lists two event types named " + dup + "; give one of them its own `type_name`";
  return {};
}

}  // namespace interlock::detail
