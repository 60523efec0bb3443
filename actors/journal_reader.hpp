// The journal reader actor: serves reads (aggregate recovery, projection
// catch-up) on its own connection and thread, beside the writer.
//
// Messages: (read_stream_atom, type, id, from_version, max_count) -> vector<stored_event>
//           (read_all_atom, from_position, max_count) -> vector<stored_event>
//           (recover_atom, recovery_job) -> (): loads snapshot + stream
//             into the job's instance on the reader's thread
//           (catchup_atom, catchup_job) -> (): applies the journal to a projection
// Recovery and catch-up read `chunk` events at a time, re-queueing the rest so
// other reads are not starved. The first chunk is applied in place (no event
// is copied), so a short stream costs one scan; the chunks after it are
// copied into a buffer and applied by the reader's second thread while this
// one reads the next (actors/apply_pipeline.hpp): decoding and applying then
// run beside SQLite's reads. The reply goes out only once every chunk of the
// job is applied. Events stored under an older schema go through `upcasters`
// first.
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/upcaster.hpp>

namespace interlock {

caf::actor spawn_journal_reader(caf::actor_system& sys, std::unique_ptr<journal> j, std::size_t chunk,
                                std::shared_ptr<const upcaster_chain> upcasters);

}  // namespace interlock
