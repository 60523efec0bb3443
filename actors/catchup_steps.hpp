// The steps a catch-up takes for each event, shared by the journal reader
// (read models in memory) and the read store actor (durable read models):
// upcasting, turning what a handler throws into an error naming the event,
// and scanning a chunk of the log with its continuity checks. Internal.
#pragma once

#include <cstddef>
#include <string>

#include <interlock/actors/messages.hpp>
#include <interlock/persistence/stored_event.hpp>
#include <interlock/persistence/upcaster.hpp>

namespace interlock::detail {

// Calls `apply(view, more_of_same)` for `e`, or for each event the upcasters
// turn it into (they keep e's envelope: position, stream version, ids).
template <class Apply>
caf::error upcast_then(const upcaster_chain& upcasters, const event_view& e, Apply&& apply) {
  if (!upcasters.needs_upcast(e.event_type, e.schema_version)) return apply(e, false);
  auto events = upcasters.upcast(e.event_type, e.schema_version, e.payload);
  if (!events)
    return make_error(code_of(events.error()).value_or(errc::schema_mismatch),
                      describe_event(e) + ": " + message_of(events.error()));
  bool more = false;
  for (auto& ev : *events) {
    const auto payload = ev.payload.dump();
    auto view = e;
    view.event_type = ev.type;
    view.schema_version = ev.schema_version;
    view.payload = payload;
    if (auto err = apply(view, more)) return err;
    more = true;
  }
  return {};
}

// Runs `apply` (applying one event), turning what it throws into an error
// naming the event: an exception must not end the reader (inline) or the
// process (on the second thread). Running out of memory is worth a retry;
// anything else comes from that event's data or its code.
template <class Apply>
caf::error guarded(const event_view& e, Apply&& apply) noexcept {
  try {
    return apply();
  } catch (const std::bad_alloc&) {
    return make_error(errc::unavailable, "out of memory applying " + describe_event(e));
  } catch (const std::exception& ex) {
    return make_error(errc::corrupt_event, describe_event(e) + ": " + ex.what());
  } catch (...) {
    return make_error(errc::corrupt_event, describe_event(e) + ": an unknown exception");
  }
}

// Applies `e` (or what the upcasters make of it) to the job's projection and
// advances job.position past it.
inline caf::error apply_to(catchup_job& job, const upcaster_chain& upcasters, const event_view& e,
                    event_envelope& scratch) {
  if (e.position == job.skip_position) {  // parked: passed over
    job.position = e.position;
    if (job.progress) job.progress->applied_event(e.position, e.recorded_at_us);
    return {};
  }
  auto err = guarded(e, [&] {
    return upcast_then(upcasters, e, [&](const event_view& v, bool) { return job.instance->apply(v, scratch); });
  });
  if (!err) {
    job.position = e.position;
    if (job.progress) job.progress->applied_event(e.position, e.recorded_at_us);
    return {};
  }
  job.poisoned = to_stored(e);
  return make_error(code_of(err).value_or(errc::corrupt_event),
                    "projection " + job.projection_name + " stopped: " + message_of(err));
}

// Scans one chunk of the journal from job.next_position, checking that the
// positions have no hole and that each stream's versions go on by one (the
// journal keeps both gapless: anything else is damage, and the event is not
// applied), and passes each event to `take`.
template <class Take>
caf::expected<std::size_t> scan_whole_log(journal& db, std::size_t chunk, catchup_job& job, Take take) {
  caf::error failure;
  const auto fields = job.instance->reads_ids() ? scan_fields::all : scan_fields::without_ids;
  const auto stopped = [&](const std::string& why) {
    return make_error(errc::corrupt_event, "projection " + job.projection_name + " stopped: " + why);
  };
  auto scanned = db.scan_all(job.next_position, chunk, [&](const event_view& e) {
    if (e.position != job.next_position) {
      failure = stopped("global position " + std::to_string(job.next_position) + " is missing from the journal");
      return false;
    }
    if (!job.streams.check(e)) {
      failure = stopped(message_of(job.streams.error(e)));
      return false;
    }
    if ((failure = take(e))) return false;
    job.next_position = e.position + 1;
    return true;
  }, fields);
  if (failure) return failure;
  return scanned;
}

// Scans one chunk of the projection's own event types through the journal's
// type index (catch_up_by_type). Holes and version breaks cannot be told from
// the events left out, so only the order is checked. A chunk that reaches the
// end of the log sets job.scanned_through to the last position the journal
// had before the scan: the projection is then there, though the last events
// were not its own.
template <class Take>
caf::expected<std::size_t> scan_own_types(journal& db, std::size_t chunk, catchup_job& job, Take take) {
  auto head = db.last_position();
  if (!head) return std::move(head.error());
  caf::error failure;
  const auto fields = job.instance->reads_ids() ? scan_fields::all : scan_fields::without_ids;
  auto scanned = db.scan_filtered(job.next_position, chunk, job.filter, [&](const event_view& e) {
    if (e.position < job.next_position) {
      failure = make_error(errc::corrupt_event, "projection " + job.projection_name + " stopped: the journal gave "
                                                    "position " + std::to_string(e.position) + " after " +
                                                    std::to_string(job.next_position - 1));
      return false;
    }
    if ((failure = take(e))) return false;
    job.next_position = e.position + 1;
    return true;
  }, fields);
  if (failure) return failure;
  if (scanned && *scanned < chunk && *head >= job.next_position) {
    job.scanned_through = *head;
    job.next_position = *head + 1;
  }
  return scanned;
}

template <class Take>
caf::expected<std::size_t> scan_catch_up(journal& db, std::size_t chunk, catchup_job& job, Take take) {
  return job.filter.empty() ? scan_whole_log(db, chunk, job, take) : scan_own_types(db, chunk, job, take);
}

}  // namespace interlock::detail
