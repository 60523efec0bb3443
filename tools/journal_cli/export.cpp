// `export FILE [STREAM] [--from P] [--to P] [-o OUT]`: events as JSON lines
// (the form of events_query.hpp, one event per line, in position order), the
// whole log, a range of positions or one stream, on stdout or into OUT.
// `import` reads them back. An event whose payload is not valid JSON stops
// the export with an error naming it (`verify` names them all); OUT is then
// not left behind (it is written as OUT.part and renamed when complete).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "events_query.hpp"

namespace journal_cli {
namespace {

struct export_options {
  std::string file;
  std::string stream;
  std::uint64_t from = 1;
  std::optional<std::uint64_t> to;
  std::string out;
};

// An open output file, removed unless commit() ran.
class output_file {
 public:
  explicit output_file(const std::string& path) : path_(path), part_(path + ".part") {
    file_ = std::fopen(part_.c_str(), "w");
    if (file_ == nullptr) throw tool_error{"cannot write '" + part_ + "': " + std::strerror(errno)};
  }
  ~output_file() {
    if (file_ != nullptr) std::fclose(file_), std::remove(part_.c_str());
  }
  std::FILE* get() const { return file_; }
  void commit() {
    const bool written = std::fflush(file_) == 0 && std::ferror(file_) == 0;
    std::fclose(std::exchange(file_, nullptr));
    std::error_code ec;
    if (written) std::filesystem::rename(part_, path_, ec);
    if (!written || ec) std::remove(part_.c_str());
    if (!written || ec) throw tool_error{"cannot write '" + path_ + "'" + (ec ? ": " + ec.message() : "")};
  }

 private:
  std::string path_, part_;
  std::FILE* file_ = nullptr;
};

// Writes the events of `f` to `to`; how many.
std::uint64_t write_events(database& db, const event_filter& f, std::FILE* to) {
  std::uint64_t n = 0;
  each_event(db, f, [&](const event_row& e) {
    const auto j = to_json(e);
    if (j.contains("payload_text"))
      throw tool_error{"journal '" + db.path() + "': the payload of stream '" + e.stream() + "' version " +
                       std::to_string(e.version) + " at position " + std::to_string(e.position) +
                       " is not valid JSON: not exported (`interlock-journal verify` names every such event)"};
    std::fprintf(to, "%s\n", j.dump().c_str());
    return ++n, true;
  });
  return n;
}

int run_export(const export_options& o) {
  event_filter f;
  f.from = o.from;
  f.to = o.to;
  if (!o.stream.empty()) std::tie(f.stream_type, f.stream_id) = split_stream(o.stream);
  auto db = open_journal(o.file);
  if (o.out.empty() || o.out == "-") {
    write_events(db, f, stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  output_file out{o.out};
  const auto n = write_events(db, f, out.get());
  out.commit();
  std::fprintf(stderr, "exported %llu events to %s\n", static_cast<unsigned long long>(n), o.out.c_str());
  return 0;
}

}  // namespace

command add_export(CLI::App& tool) {
  auto o = std::make_shared<export_options>();
  auto* app = tool.add_subcommand("export", "events as JSON lines (what import reads), on stdout or into a file");
  app->add_option("FILE", o->file, "the journal")->required();
  auto* stream = app->add_option("STREAM", o->stream, "only this stream, as Type/id");
  app->add_option("--from", o->from, "from this global position on (default 1)")->excludes(stream);
  app->add_option("--to", o->to, "up to this global position")->excludes(stream);
  app->add_option("-o,--output", o->out, "write to this file instead of stdout");
  return {app, [o](const output&) { return run_export(*o); }};
}

}  // namespace journal_cli
