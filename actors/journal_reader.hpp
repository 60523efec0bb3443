// The journal reader actor: serves reads (aggregate recovery, projection
// catch-up) on its own connection and thread, beside the writer.
//
// Messages: (read_stream_atom, type, id, from_version, max_count) -> vector<stored_event>
//           (read_all_atom, from_position, max_count) -> vector<stored_event>
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include <interlock/persistence/journal.hpp>

namespace interlock {

caf::actor spawn_journal_reader(caf::actor_system& sys, std::unique_ptr<journal> j);

}  // namespace interlock
