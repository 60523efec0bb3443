// The messages the runtime's actors exchange. Internal: include only from .cpp
// files (it pulls in CAF).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include <caf/all.hpp>

#include <interlock/actors/projection_progress.hpp>
#include <interlock/actors/stream_continuity.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/model/aggregate_instance.hpp>
#include <interlock/model/erased.hpp>
#include <interlock/model/erased_messages.hpp>
#include <interlock/model/process_instance.hpp>
#include <interlock/model/projection_instance.hpp>
#include <interlock/persistence/journal.hpp>
#include <interlock/persistence/read_store.hpp>

namespace interlock {

using drain_atom = caf::atom_constant<caf::atom("drain")>;          // () jobs wait in the writer's inbox
using read_stream_atom = caf::atom_constant<caf::atom("rdstream")>; // (type, id, from_version, max) -> vector<stored_event>
using read_all_atom = caf::atom_constant<caf::atom("rdall")>;       // (from_position, max) -> vector<stored_event>
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;  // (actor) -> last committed position
using events_atom = caf::atom_constant<caf::atom("events")>;        // (vector<stored_event>) committed, in order
using head_atom = caf::atom_constant<caf::atom("head")>;            // (position) the journal grew to it (another process)
using rebuild_atom = caf::atom_constant<caf::atom("rebuild")>;      // () -> unit, once rebuilt
using expire_atom = caf::atom_constant<caf::atom("expire")>;        // (query ticket) a parked query timed out
using retry_atom = caf::atom_constant<caf::atom("retry")>;          // () try the journal again
using recover_atom = caf::atom_constant<caf::atom("recover")>;      // (recovery_job) -> () loaded
using catchup_atom = caf::atom_constant<caf::atom("catchup")>;      // (catchup_job) -> () applied to the end
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;  // () an aggregate actor stops
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;          // () the router passivates idle actors
using live_atom = caf::atom_constant<caf::atom("live")>;            // () -> live aggregate actors (size_t)
using checkpoint_load_atom = caf::atom_constant<caf::atom("ckload")>;  // (name) -> checkpoint_ptr (null: none)
using checkpoint_save_atom = caf::atom_constant<caf::atom("cksave")>;  // (name, checkpoint_ptr) -> unit
using checkpoint_drop_atom = caf::atom_constant<caf::atom("ckdrop")>;  // (name) -> unit
using durable_open_atom = caf::atom_constant<caf::atom("dbopen")>;    // (instance, name) -> position
using durable_apply_atom = caf::atom_constant<caf::atom("dbapply")>;  // (instance, name, events, after, through) -> through
using durable_query_atom = caf::atom_constant<caf::atom("dbquery")>;  // (instance, name, query) -> erased_answer
using durable_reset_atom = caf::atom_constant<caf::atom("dbreset")>;  // (instance, name) -> unit
using shadow_open_atom = caf::atom_constant<caf::atom("shopen")>;     // (instance, name) -> unit: a rebuild begins
using shadow_swap_atom = caf::atom_constant<caf::atom("shswap")>;     // (catchup_job) -> position: a rebuild swapped in
using pause_atom = caf::atom_constant<caf::atom("pause")>;          // () -> unit: a projection applies nothing
using resume_atom = caf::atom_constant<caf::atom("resume")>;        // () -> unit: it catches up and goes on
using reset_atom = caf::atom_constant<caf::atom("reset")>;          // (position) -> unit: a paused one moves there
using durable_move_atom = caf::atom_constant<caf::atom("dbmove")>;  // (name, position) -> unit: sets its checkpoint
using poison_retry_atom = caf::atom_constant<caf::atom("poisonrt")>;  // () retry the event a handler failed on
using park_atom = caf::atom_constant<caf::atom("park")>;              // (name, parked_event) -> unit
using parked_atom = caf::atom_constant<caf::atom("parked")>;          // (name) -> vector<parked_event>
using unpark_atom = caf::atom_constant<caf::atom("unpark")>;          // (name, position) -> unit
using replay_parked_atom = caf::atom_constant<caf::atom("replaypk")>; // (position) -> unit
using durable_replay_atom = caf::atom_constant<caf::atom("dbreplay")>;  // (instance, name, event) -> unit
using store_job_atom = caf::atom_constant<caf::atom("storejob")>;  // (instance, store_job_ptr) -> unit: runs it in a transaction
using answered_atom = caf::atom_constant<caf::atom("answered")>;    // (outbox id, last position, error) a process's command was answered
using resend_atom = caf::atom_constant<caf::atom("resend")>;        // (outbox id) send a process's command again
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;    // (key, due_us) a saga's deadline may have come
using retry_jobs_atom = caf::atom_constant<caf::atom("retryjobs")>; // () run the store jobs that failed again
using load_outbox_atom = caf::atom_constant<caf::atom("ldoutbox")>;  // () a driver sends what the outbox holds
using find_command_atom = caf::atom_constant<caf::atom("findcmd")>;  // (command_id) -> command_record (empty type: none)

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_record& x) {
  return f(caf::meta::type_name("interlock.event_record"), x.type, x.schema_version, x.payload);
}


template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stored_event& x) {
  return f(caf::meta::type_name("interlock.stored_event"), x.position, x.aggregate_type, x.aggregate_id, x.version,
           x.event_type, x.schema_version, x.recorded_at_us, x.command_id, x.correlation_id, x.causation_id,
           x.payload);
}

namespace detail {

/// An aggregate handed to the reader to load: from its newest usable snapshot
/// (if it keeps snapshots), then the stream's events after it, up to the
/// bounds (time travel) or the end.
struct recovery_job {
  std::shared_ptr<aggregate_instance> instance;
  std::string aggregate_type;
  std::string aggregate_id;
  std::uint64_t max_version = std::numeric_limits<std::uint64_t>::max();
  std::int64_t max_recorded_at_us = std::numeric_limits<std::int64_t>::max();
  bool snapshot_checked = false;
  bool keep_last = false;              // time travel: remember the last envelope applied
  std::optional<event_envelope> last;  // set when keep_last
  // The reader's own progress (see journal_reader.cpp): the next version to
  // read, and, once a long stream's chunks are applied on the reader's second
  // thread, the first failure there (`failed` tells the reader early).
  std::uint64_t next_version = 1;
  bool pipelined = false;
  std::atomic<bool> failed{false};
  caf::error failure;
  std::atomic<bool> abandoned{false};  // set by the requester after a timeout: stop at the next chunk
};

/// A projection handed to the reader to apply the journal from `position` on;
/// the reader advances `position` in place (the projection actor awaits it).
struct catchup_job {
  std::shared_ptr<projection_instance> instance;
  std::shared_ptr<projection_progress> progress;  // status, updated as events are applied
  std::uint64_t position = 0;  // of the last event applied
  std::string projection_name;
  // The reader's own progress, as in recovery_job.
  std::uint64_t next_position = 1;  // the next to read: position + 1 when the job is made
  stream_continuity streams;        // the versions read so far (the reader's thread only)
  bool pipelined = false;
  std::atomic<bool> failed{false};
  caf::error failure;
  std::atomic<bool> abandoned{false};  // as in recovery_job
  std::shared_ptr<void> read_ahead;    // the read store's next chunk, read while it applies one
  // Poison events: the event whose handler failed (its position 0: none), and
  // the position of a parked event to pass over.
  stored_event poisoned;
  std::uint64_t skip_position = 0;
  // catch_up_by_type: the projection's own event types, read through the
  // journal's index (empty: the whole log), and how far such a scan has
  // looked (the reader's thread: read after the reply, or by the read store).
  log_filter filter;
  std::uint64_t scanned_through = 0;
  // A durable read model's rebuild: the read store applies the job to the
  // shadow it builds beside the tables (actors/read_store_shadow.cpp).
  bool shadow = false;
};

/// A durable read model, handed to the read store actor that runs it.
using instance_ptr = std::shared_ptr<projection_instance>;

/// A projection's checkpoint on its way to or from the read store.
using checkpoint_ptr = std::shared_ptr<const projection_checkpoint>;

/// True for errors in the stored data (they stay until the data is fixed),
/// false for the journal not answering (worth retrying).
inline bool is_data_error(const caf::error& err) {
  auto code = code_of(err);
  return code == errc::corrupt_event || code == errc::unknown_event_type || code == errc::schema_mismatch;
}

/// Calls its callback exactly once: with the reply, or, if it is destroyed
/// unanswered (a message dropped by a stopped actor), with errc::unavailable.
/// So no caller of dispatch() or query() ever waits forever.
template <class Reply>
class reply_once {
 public:
  using callback = std::function<void(caf::expected<Reply>)>;
  reply_once(callback fn, std::string if_dropped) : fn_(std::move(fn)), if_dropped_(std::move(if_dropped)) {}
  reply_once(const reply_once&) = delete;
  reply_once& operator=(const reply_once&) = delete;
  ~reply_once() { (*this)(make_error(errc::unavailable, if_dropped_)); }

  void operator()(caf::expected<Reply> reply) {
    if (auto fn = std::exchange(fn_, nullptr)) fn(std::move(reply));
  }

 private:
  callback fn_;
  std::string if_dropped_;
};

using command_done = std::shared_ptr<reply_once<erased_reply>>;
using query_done = std::shared_ptr<reply_once<erased_answer>>;

/// A command submitted through the application's client actor.
struct command_job {
  erased_command cmd;
  std::chrono::milliseconds timeout;
  command_done done;
};

/// A step of a process (model/process_instance.hpp) the read store runs in a
/// transaction of its own, on the instance's connection.
using store_job = std::function<caf::error()>;
using store_job_ptr = std::shared_ptr<const store_job>;

/// A query submitted through the application's client actor.
struct query_job {
  erased_query q;
  caf::actor target;
  query_done done;
};

}  // namespace detail
}  // namespace interlock

// Local-only: they carry typed bodies and callbacks, not serialisable values.
// The journal actors are local to their node; append requests never travel.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::command_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::command_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::query_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<interlock::detail::recovery_job>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<interlock::detail::catchup_job>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::checkpoint_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::parked_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<interlock::parked_event>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::instance_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::store_job_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::process_news_ptr)
