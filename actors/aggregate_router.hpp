// The aggregate router: finds or spawns the actor of (aggregate type, id) and
// hands it the command; the reply goes straight back to the sender. It keeps
// one live actor per aggregate and forgets actors that stop. It lists the live
// actors in `directory`, where callers find them and send to them directly
// (actors/aggregate_directory.hpp). The application passes a null directory
// when middleware is configured: middleware runs here, so every command must
// come through.
//
// Messages: (erased_command) -> delegated to the aggregate actor
#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include <interlock/actors/aggregate/aggregate_actor.hpp>

namespace interlock {
namespace detail {
class aggregate_directory;
}

caf::actor spawn_aggregate_router(caf::actor_system& sys,
                                  std::vector<std::shared_ptr<const detail::aggregate_kind>> kinds,
                                  aggregate_context ctx, std::shared_ptr<detail::aggregate_directory> directory);

}  // namespace interlock
