// `tail FILE`: the last N events (-n, default 10); with --follow it then
// prints each event as it is committed, until SIGINT or SIGTERM (exit 0).
// Following polls every --interval-ms (default 150) on a read-only
// connection: PRAGMA data_version tells whether another connection committed,
// and only then are the positions after the last one seen read. A table
// (printed a part per poll) or --jsonl; the type filters of `events` apply.
#include <csignal>
#include <ctime>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "events_query.hpp"

namespace journal_cli {
namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_stop(int) { stop_requested = 1; }

// SIGINT and SIGTERM set the flag; without SA_RESTART, so that they cut a sleep short.
void catch_stop_signals() {
  struct sigaction sa{};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void sleep_ms(int ms) {
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1'000'000};
  ::nanosleep(&ts, nullptr);  // a signal ends it early: the loop then sees the flag
}

struct tail_options {
  std::string file;
  std::size_t lines = 10;
  bool follow = false, jsonl = false;
  int interval_ms = 150;
  std::vector<std::string> aggregate_types, event_types;
};

// Prints the events after `seen` up to the journal's last position; returns that position.
std::uint64_t print_new(database& db, event_filter f, std::uint64_t seen, event_printer& printer) {
  const auto last = static_cast<std::uint64_t>(db.scalar("SELECT coalesce(max(global_position), 0) FROM events"));
  if (last <= seen) return seen;
  f.from = seen + 1;
  f.to = last;
  each_event(db, f, [&](const event_row& e) { return printer.add(e), true; });
  printer.flush();
  return last;
}

// `version`: data_version as read before `seen`, so that a commit in between is not missed.
void follow(database& db, const event_filter& f, std::uint64_t seen, std::int64_t version, event_printer& printer,
            int interval_ms) {
  while (stop_requested == 0) {
    sleep_ms(interval_ms);
    if (stop_requested != 0) break;
    const auto now = db.scalar("PRAGMA data_version");
    if (now == version) continue;
    version = now;
    seen = print_new(db, f, seen, printer);
  }
}

int run_tail(const tail_options& o, const output& out) {
  if (o.follow) catch_stop_signals();
  auto db = open_journal(o.file);
  event_filter f;
  f.aggregate_types = o.aggregate_types;
  f.event_types = o.event_types;
  const auto version = db.scalar("PRAGMA data_version");
  f.to = static_cast<std::uint64_t>(db.scalar("SELECT coalesce(max(global_position), 0) FROM events"));
  event_printer printer{o.jsonl ? event_printer::form::jsonl : event_printer::form::table, out};
  for (const auto& e : last_events(db, f, o.lines)) printer.add(e);
  printer.flush();
  if (o.follow) follow(db, f, *f.to, version, printer, o.interval_ms);
  printer.finish();
  return 0;
}

}  // namespace

command add_tail(CLI::App& tool) {
  auto o = std::make_shared<tail_options>();
  auto* app = tool.add_subcommand("tail", "the last events; with --follow, new events as they are committed");
  app->add_option("FILE", o->file, "the journal")->required();
  app->add_option("-n,--lines", o->lines, "how many of the last events to print first (default 10)");
  app->add_flag("-f,--follow", o->follow, "keep printing events as they are committed, until Ctrl-C (SIGINT) or SIGTERM");
  app->add_option("--interval-ms", o->interval_ms, "with --follow, how often to look (default 150)")
      ->check(CLI::Range(10, 60'000));
  app->add_option("--aggregate-type", o->aggregate_types, "only events of streams of this aggregate type (repeatable)");
  app->add_option("--event-type", o->event_types, "only events of this type (repeatable)");
  app->add_flag("--jsonl", o->jsonl, "one JSON object per line");
  return {app, [o](const output& out) { return run_tail(*o, out); }};
}

}  // namespace journal_cli
