// The journal reader actor: serves reads (aggregate recovery, projection
// catch-up) on its own connection and thread, beside the writer.
//
// Messages: (read_stream_atom, type, id, from_version, max_count) -> vector<stored_event>
//           (read_all_atom, from_position, max_count) -> vector<stored_event>
//           (recover_atom, recovery_job) -> (): loads snapshot + stream
//             into the job's instance on the reader's thread
//           (catchup_atom, catchup_job) -> (): applies the journal to a projection
// Recovery and catch-up scan the journal in place (no event is copied), `chunk`
// events at a time, re-queueing the rest so other reads are not starved.
// Events stored under an older schema go through `upcasters` first.
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/upcaster.hpp>

namespace interlock {

caf::actor spawn_journal_reader(caf::actor_system& sys, std::unique_ptr<journal> j, std::size_t chunk,
                                std::shared_ptr<const upcaster_chain> upcasters);

}  // namespace interlock
