#include <interlock/runtime/aggregate.hpp>

namespace interlock::detail {

void aggregate_core::record_emitted(caf::expected<std::string> payload, std::string_view type, std::uint32_t schema_version,
                            std::function<void(void*)> apply) {
  if (!payload) {
    if (!refused_) refused_ = std::move(payload.error());
    return;
  }
  pending_.push_back({event_record{std::string{type}, schema_version, std::move(*payload)}, std::move(apply)});
}

}  // namespace interlock::detail
