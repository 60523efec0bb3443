// What the debug console (runtime/debug.hpp) reads of an application_builder
// without building it: the registered types, the upcasters and the settings
// (the journal's path). Internal.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <interlock/runtime/application_builder.hpp>

namespace interlock::detail {

struct builder_access {
  static const std::vector<std::shared_ptr<const aggregate_kind>>& aggregates(const application_builder& b) {
    return b.aggregates_;
  }
  /// Projections, processors and sagas, in registration order.
  static const std::vector<std::shared_ptr<const projection_kind>>& projections(const application_builder& b) {
    return b.projections_;
  }
  /// Whether `name` is a processor or saga (not a read model).
  static bool is_process(const application_builder& b, const std::string& name) {
    return b.processes_.count(name) > 0;
  }
  static const upcaster_chain& upcasters(const application_builder& b) { return *b.upcasters_; }
  static const runtime_settings& settings(const application_builder& b) { return b.settings_; }
  /// A journal the program supplied itself (application_builder::journal()).
  static bool own_journal(const application_builder& b) { return b.factory_ != nullptr; }
};

}  // namespace interlock::detail
