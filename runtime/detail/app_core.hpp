// The state behind an application handle. Internal.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>

#include <interlock/actors/aggregate_directory.hpp>
#include <interlock/actors/deadline_keeper.hpp>
#include <interlock/actors/journal_follower.hpp>
#include <interlock/actors/projection_progress.hpp>
#include <interlock/runtime/application_builder.hpp>

namespace interlock::detail {

class app_core {
 public:
  // Declared first, so destroyed last: the actor system of an application
  // built without one (application_builder()), after everything else.
  std::shared_ptr<void> owned_system;
  caf::actor_system* sys = nullptr;
  runtime_settings settings;
  caf::actor writer;
  caf::actor reader;
  caf::actor store;  // the read store: projections' checkpoints
  std::shared_ptr<std::atomic<bool>> store_stopping = std::make_shared<std::atomic<bool>>(false);
  caf::actor router;
  caf::actor client;
  // Live aggregate actors, sent to directly; null with middleware.
  std::shared_ptr<aggregate_directory> directory;
  std::unique_ptr<deadline_keeper> deadlines = std::make_unique<deadline_keeper>();  // command timeouts
  std::unique_ptr<journal_follower> follower;  // other processes' appends; null: none followed
  std::unordered_map<std::string, caf::actor> projections;          // by projection type name (processes too)
  std::vector<caf::actor> process_drivers;
  // Each projection's status, in registration order.
  std::vector<std::pair<std::string, std::shared_ptr<projection_progress>>> progress;
  std::unordered_map<std::string, caf::actor> query_routes;         // query type -> projection actor
  std::unordered_map<std::string, std::string> command_routes;      // command type -> aggregate type
  std::unordered_set<std::string> aggregate_types;

  /// Stops the actors, the writer and the read store last so queued appends
  /// and final snapshots still commit; waits until both are closed.
  void stop();
  bool stopped() const { return stopped_flag_.load(); }
  ~app_core() { stop(); }

 private:
  std::once_flag stopped_;
  std::atomic<bool> stopped_flag_{false};
};

}  // namespace interlock::detail
