// snapshot: one Vault with N events and a snapshot every 1,000, recovered from
// a cold start twice: once from its newest snapshot (snapshot_every = 1000) and
// once by a full replay of the same stream (snapshot_every = 0; Vault declares
// no policy of its own, so the setting decides).
//
// The stream is written through the runtime: Fill commands of 1,000 events
// each to one aggregate with snapshot_every = 1000, so every command's append
// carries the snapshot the runtime itself encodes. Each recovery then runs in a
// new actor system and application on the same file, and the first command
// (Ping, which emits nothing) is timed: its reply waits for the recovery.
// load_as_of() of the latest state is timed after it in the same application
// (a second read of the stream, on the reader's connection).
#include <limits>
#include <memory>
#include <optional>

#include <interlock/runtime/actor_api.hpp>

#include "journal_fill.hpp"
#include "runtime_host.hpp"

namespace bench {
namespace {

constexpr std::uint64_t snapshot_interval = 1'000;

struct recovery {
  double build_ms = 0;
  double first_command_ms = 0;  // Ping's round trip: the recovery
  double as_of_ms = 0;          // load_as_of<Vault>(id) afterwards
};

// A new actor system and application on the journal; the first command's
// round trip, then load_as_of; checks that both see version n and balance n - 1.
std::optional<recovery> recover(const options& opts, const std::string& path, const interlock::journal_factory& factory,
                                const std::string& id, std::uint64_t n, std::uint64_t snapshot_every,
                                std::string& error) {
  recovery out;
  runtime_host host;
  auto settings = settings_for(opts, path);
  settings.snapshot_every = snapshot_every;
  interlock::application_builder builder{host.sys};
  builder.aggregate<Vault>().settings(settings).journal(factory);
  const auto t_build = clock::now();
  auto app = builder.build();
  if (!app) {
    error = "cannot start the application: " + describe_error(app.error());
    return std::nullopt;
  }
  out.build_ms = seconds_since(t_build) * 1e3;
  interlock::dispatch_options o;
  o.timeout = long_timeout;
  const auto t0 = clock::now();
  auto ping = app->dispatch(id, Ping{1}, o);
  out.first_command_ms = seconds_since(t0) * 1e3;
  if (!ping) {
    error = "the first command after " + std::to_string(out.first_command_ms) + " ms: " + describe_error(ping.error());
    return std::nullopt;
  }
  if (ping->value != n) {
    error = "recovered version " + std::to_string(ping->value) + ", expected " + std::to_string(n);
    return std::nullopt;
  }
  const auto t1 = clock::now();
  auto loaded = app->load_as_of<Vault>(id);
  out.as_of_ms = seconds_since(t1) * 1e3;
  if (!loaded) {
    error = "load_as_of: " + describe_error(loaded.error());
    return std::nullopt;
  }
  const auto last_version = loaded->last ? loaded->last->version : 0;
  if (last_version != n || loaded->state.balance != static_cast<std::int64_t>(n) - 1 || !loaded->state.open) {
    error = "load_as_of: version " + std::to_string(last_version) + ", balance " +
            std::to_string(loaded->state.balance) + "; expected version " + std::to_string(n) + ", balance " +
            std::to_string(n - 1);
    return std::nullopt;
  }
  return out;
}

}  // namespace

result workload_snapshot(const options& opts, const std::string& dir) {
  result r;
  r.workload = "snapshot";
  r.journal = opts.journal_name();
  const auto path = dir + "/snapshot.db";
  remove_database(path);
  const auto n = static_cast<std::uint64_t>(opts.events);
  const auto id = interlock::new_id();
  auto factory = journal_factory_for(opts, path);
  [&] {
    if (n < snapshot_interval) {
      r.error = "--events " + std::to_string(n) + " holds no snapshot: it needs at least " +
                std::to_string(snapshot_interval);
      return;
    }
    // The in-memory store lives as long as one of its journals: keep one open.
    std::unique_ptr<interlock::journal> keeper;
    if (opts.memory) {
      auto j = factory();
      if (!j) {
        r.error = "cannot open the journal: " + describe_error(j.error());
        return;
      }
      keeper = std::move(*j);
    }

    // -- fill: Fill commands of 1,000 events, a snapshot with each ------------
    {
      runtime_host host;
      auto settings = settings_for(opts, path);
      settings.snapshot_every = snapshot_interval;
      interlock::application_builder builder{host.sys};
      builder.aggregate<Vault>().settings(settings).journal(factory);
      auto app = builder.build();
      if (!app) {
        r.error = "cannot start the filling application: " + describe_error(app.error());
        return;
      }
      const auto commands = (n + snapshot_interval - 1) / snapshot_interval;
      auto fill = [&](caf::event_based_actor* self, std::size_t i, reply_fn done) {
        const auto count = std::min<std::uint64_t>(snapshot_interval, n - i * snapshot_interval);
        interlock::async_dispatch(self, *app, id, Fill{static_cast<std::uint32_t>(count)}, report_to(std::move(done)));
      };
      // A few in flight keep the aggregate's mailbox from running dry; they
      // are run one after the other anyway.
      auto filled = drive(host.sys, commands, 4, fill, 1);
      if (!filled.error.empty()) {
        r.error = "filling (" + std::to_string(filled.completed) + " of " + std::to_string(commands) +
                  " commands): " + filled.error;
        return;
      }
      r.extra["fill_seconds"] = filled.seconds;
    }

    // -- what the journal holds -----------------------------------------------
    {
      std::unique_ptr<interlock::journal> own;
      interlock::journal* j = keeper.get();
      if (!j) {
        auto opened = factory();
        if (!opened) {
          r.error = "cannot open the journal: " + describe_error(opened.error());
          return;
        }
        own = std::move(*opened);
        j = own.get();
      }
      auto snap = j->load_snapshot("Vault", id, std::numeric_limits<std::uint64_t>::max(),
                                   std::numeric_limits<std::int64_t>::max());
      if (!snap || !*snap) {
        r.error = "no snapshot was stored" + (snap ? std::string{} : ": " + describe_error(snap.error()));
        return;
      }
      const auto expected = n / snapshot_interval * snapshot_interval;
      if ((*snap)->version != expected) {
        r.error = "the newest snapshot is at version " + std::to_string((*snap)->version) + ", expected " +
                  std::to_string(expected);
        return;
      }
      r.extra["snapshot_version"] = static_cast<double>((*snap)->version);
      r.extra["tail_events"] = static_cast<double>(n - (*snap)->version);
    }  // closed: the applications below start cold

    // -- recover from the snapshot, then by a full replay ------------------------
    std::string error;
    auto snap = recover(opts, path, factory, id, n, snapshot_interval, error);
    if (!snap) {
      r.error = "snapshot recovery: " + error;
      return;
    }
    auto full = recover(opts, path, factory, id, n, 0, error);
    if (!full) {
      r.error = "full replay: " + error;
      return;
    }
    // events/s is the replay-equivalent rate: the stream's N events over the
    // snapshot recovery's time (only the tail after the snapshot is replayed).
    r.set_rate(n, snap->first_command_ms / 1e3);
    r.extra["recover_ms"] = snap->first_command_ms;
    r.extra["full_replay_ms"] = full->first_command_ms;
    r.extra["speedup"] = snap->first_command_ms > 0 ? full->first_command_ms / snap->first_command_ms : 0;
    r.extra["full_replay_events_per_s"] = full->first_command_ms > 0 ? static_cast<double>(n) / (full->first_command_ms / 1e3) : 0;
    r.extra["as_of_ms"] = snap->as_of_ms;
    r.extra["full_replay_as_of_ms"] = full->as_of_ms;
    r.extra["build_ms"] = snap->build_ms;
    r.extra["snapshot_every"] = static_cast<double>(snapshot_interval);
    r.notes.push_back("one stream of " + with_commas(static_cast<double>(n)) + " events, a snapshot every " +
                      with_commas(static_cast<double>(snapshot_interval)) +
                      " (written by the runtime); timed: the first command after build() with snapshots, then again "
                      "in a new application with snapshot_every=0 (full replay); events/s = N / snapshot recovery time");
  }();
  if (!opts.keep) remove_database(path);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace bench
