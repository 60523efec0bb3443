// `events FILE [STREAM]`: one stream's events (STREAM as Type/id), or the
// global log from --from POSITION, in position order, through the filters of
// events_query.hpp and --limit; an aligned table (the payload cut to the
// width), or --json (one array) or --jsonl (an object per line) in the form
// events_query.hpp describes.
#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "events_query.hpp"

namespace journal_cli {
namespace {

struct events_options {
  std::string file;
  std::string stream;
  std::uint64_t from = 1;
  std::size_t limit = 0;
  filter_options filters;
  bool json = false, jsonl = false;
};

int run_events(const events_options& o, const output& out) {
  event_filter f;
  f.from = o.from;
  f.limit = o.limit;
  o.filters.resolve(f);
  if (!o.stream.empty()) std::tie(f.stream_type, f.stream_id) = split_stream(o.stream);
  auto db = open_journal(o.file);
  using form = event_printer::form;
  event_printer printer{o.json ? form::json : o.jsonl ? form::jsonl : form::table, out};
  each_event(db, f, [&](const event_row& e) { return printer.add(e), true; });
  printer.finish();
  return 0;
}

}  // namespace

command add_events(CLI::App& tool) {
  auto o = std::make_shared<events_options>();
  auto* app = tool.add_subcommand("events", "a stream's events, or the global log, as a table or JSON");
  app->add_option("FILE", o->file, "the journal")->required();
  app->add_option("STREAM", o->stream, "one stream, as Type/id (default: every stream)");
  app->add_option("--from", o->from, "from this global position on (default 1)");
  app->add_option("--limit", o->limit, "at most this many events");
  o->filters.add_to(*app);
  auto* json = app->add_flag("--json", o->json, "one JSON array of events");
  app->add_flag("--jsonl", o->jsonl, "one JSON object per line")->excludes(json);
  return {app, [o](const output& out) { return run_events(*o, out); }};
}

}  // namespace journal_cli
