#include "fold.hpp"

#include <interlock/actors/catchup_steps.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/persistence/stored_event.hpp>
#include <interlock/runtime/detail/builder_access.hpp>

namespace interlock::debug::detail {

namespace {

constexpr std::size_t chunk = 4096;

// Applies `e` (or what the upcasters make of it) and reports each applied event.
caf::error apply_one(fold_result& r, const upcaster_chain& upcasters, const event_view& e, const on_applied& each) {
  return interlock::detail::guarded(e, [&] {
    return interlock::detail::upcast_then(upcasters, e, [&](const event_view& v, bool more) {
      if (auto err = r.instance->replay(v, more)) return err;
      r.last = to_stored(v);
      if (each) each(*r.last, *r.instance);
      return caf::error{};
    });
  });
}

}  // namespace

fold_result fold(const console& c, journal& j, const stream_name& s, as_of bound, const on_applied& each) {
  const auto& kind = c.aggregate(s.type);
  auto head = j.stream_version(s.type, s.id);
  if (!head) throw failure{"reading " + s.text() + ": " + message_of(head.error())};
  if (*head == 0) throw failure{"no stream " + s.text() + " in journal '" + c.journal_path() + "'"};
  fold_result r{kind.make(s.id, {}), std::nullopt};
  const auto& upcasters = interlock::detail::builder_access::upcasters(c.builder());
  std::uint64_t next = 1;
  caf::error failed;
  bool beyond = false;
  while (!beyond && !failed) {
    auto scanned = j.scan_stream(s.type, s.id, next, chunk, [&](const event_view& e) {
      if (e.version > bound.max_version || e.recorded_at_us > bound.max_recorded_at_us) return !(beyond = true);
      if (e.version != next) failed = interlock::detail::version_break(e, next);
      else failed = apply_one(r, upcasters, e, each);
      ++next;
      return !failed;
    });
    if (!scanned) throw failure{"reading " + s.text() + ": " + message_of(scanned.error())};
    if (*scanned < chunk) break;
  }
  if (failed) throw failure{message_of(failed)};
  return r;
}

std::string state_json(const interlock::detail::aggregate_instance& instance, const std::string& type) {
  auto json = instance.state_json();
  if (json) return std::move(*json);
  if (is(json.error(), errc::schema_mismatch))
    throw failure{type + " has no JSON view of its state: add INTERLOCK_JSON(" + type +
                  ", its fields...) (the form snapshots store) to replay or step it"};
  throw failure{message_of(json.error())};
}

}  // namespace interlock::debug::detail
