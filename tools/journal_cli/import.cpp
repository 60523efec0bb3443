// `import FILE [-i IN]`: appends JSON lines (the form `export` writes; stdin
// without -i) to journal FILE, creating it if missing, through the library's
// journal API (open_sqlite_journal + append), so what it writes is a valid
// journal.
//
// Each line needs the stream (aggregate_type and aggregate_id, or "stream"
// as Type/id), "version", "type" and "payload" (any JSON); "schema_version"
// (default 1), "command_id", "correlation_id", "causation_id" (null: none)
// and "position" are optional, the rest ("recorded_at"...) is ignored: the
// events get the journal's next positions and the commit's time.
//
// Refused, with an error naming the line and the problem, and then nothing
// is written (every line is checked before anything is appended):
//  - a line that is not a JSON object or lacks a field, or that the journal
//    would refuse (a name or id that is not valid, an empty type);
//  - a version that is not its stream's next one (its version in the
//    journal, then the lines before it);
//  - a "position" at or before the journal's last position or at or before
//    the position of a line before it (the input's order is the log's order).
// The checked events are then appended in one batch, one transaction. A
// writer appending to the same streams between the check and the append
// (another process) makes those requests fail: the error says which; so
// import into a journal no application is writing to.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal_detail.hpp>
#include <interlock/persistence/sqlite_journal.hpp>

#include "commands.hpp"
#include "database.hpp"

namespace journal_cli {
namespace {

using json = nlohmann::ordered_json;

struct import_options {
  std::string file;
  std::string in;
};

// Where the input stands while it is checked.
struct import_check {
  std::string input;  // "<stdin>" or the path, for errors
  interlock::journal* journal = nullptr;  // null: the file does not exist yet, every stream is empty
  std::uint64_t journal_last = 0;
  std::map<std::pair<std::string, std::string>, std::uint64_t> versions;  // each stream's version so far
  std::uint64_t last_position = 0;  // of the last line with one
  std::size_t last_position_line = 0;
};

[[noreturn]] void refuse(const import_check& c, std::size_t line, const std::string& problem) {
  throw tool_error{c.input + " line " + std::to_string(line) + ": " + problem + "; nothing imported"};
}

std::string string_field(const import_check& c, std::size_t line, const json& j, const char* name, bool required) {
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) refuse(c, line, std::string{"no \""} + name + "\"");
    return {};
  }
  if (!it->is_string()) refuse(c, line, std::string{"\""} + name + "\" is not a string");
  return it->get<std::string>();
}

std::uint64_t number_field(const import_check& c, std::size_t line, const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) refuse(c, line, std::string{"no \""} + name + "\"");
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() == 0)
    refuse(c, line, std::string{"\""} + name + "\" is not a positive integer");
  return it->get<std::uint64_t>();
}

void read_stream(const import_check& c, std::size_t line, const json& j, interlock::append_request& req) {
  req.aggregate_type = string_field(c, line, j, "aggregate_type", false);
  req.aggregate_id = string_field(c, line, j, "aggregate_id", false);
  if (!req.aggregate_type.empty() || !req.aggregate_id.empty()) return;
  const auto stream = string_field(c, line, j, "stream", false);
  const auto slash = stream.find('/');
  if (slash == std::string::npos) refuse(c, line, "no \"aggregate_type\" and \"aggregate_id\", nor a \"stream\" Type/id");
  req.aggregate_type = stream.substr(0, slash);
  req.aggregate_id = stream.substr(slash + 1);
}

// The request line `line` asks for (its version in `version`); refuses what is malformed.
interlock::append_request read_line(const import_check& c, std::size_t line, const json& j, std::uint64_t& version) {
  interlock::append_request req;
  read_stream(c, line, j, req);
  version = number_field(c, line, j, "version");
  interlock::event_record e;
  e.type = string_field(c, line, j, "type", true);
  if (j.contains("payload_text")) refuse(c, line, "its payload is not JSON (\"payload_text\"): it cannot be imported");
  if (!j.contains("payload")) refuse(c, line, "no \"payload\"");
  e.payload = j["payload"].dump();
  if (j.contains("schema_version")) e.schema_version = static_cast<std::uint32_t>(number_field(c, line, j, "schema_version"));
  req.events.push_back(std::move(e));
  req.command_id = string_field(c, line, j, "command_id", false);
  req.correlation_id = string_field(c, line, j, "correlation_id", false);
  req.causation_id = string_field(c, line, j, "causation_id", false);
  return req;
}

std::uint64_t& stream_version(import_check& c, const interlock::append_request& req) {
  const auto key = std::make_pair(req.aggregate_type, req.aggregate_id);
  auto it = c.versions.find(key);
  if (it != c.versions.end()) return it->second;
  std::uint64_t now = 0;
  if (c.journal != nullptr) {
    auto v = c.journal->stream_version(req.aggregate_type, req.aggregate_id);
    if (!v) throw tool_error{interlock::message_of(v.error())};
    now = *v;
  }
  return c.versions.emplace(key, now).first->second;
}

void check_position(import_check& c, std::size_t line, const json& j) {
  if (!j.contains("position")) return;
  const auto position = number_field(c, line, j, "position");
  if (position <= c.journal_last)
    refuse(c, line, "position " + std::to_string(position) + " is not after the journal's last position " +
                        std::to_string(c.journal_last));
  if (position <= c.last_position)
    refuse(c, line, "position " + std::to_string(position) + " goes backwards: line " +
                        std::to_string(c.last_position_line) + " has position " + std::to_string(c.last_position));
  c.last_position = position;
  c.last_position_line = line;
}

// Checks one line against the journal and the lines before it; its request.
interlock::append_request check_line(import_check& c, std::size_t line, const std::string& text) {
  const auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) refuse(c, line, "not a JSON object");
  std::uint64_t version = 0;
  auto req = read_line(c, line, j, version);
  if (auto err = interlock::detail::validate(req)) refuse(c, line, interlock::message_of(err));
  auto& at = stream_version(c, req);
  if (version != at + 1)
    refuse(c, line, "stream '" + req.aggregate_type + "/" + req.aggregate_id + "' version " + std::to_string(version) +
                        " is not the stream's next version, " + std::to_string(at + 1));
  check_position(c, line, j);
  req.expected_version = at;
  at = version;
  return req;
}

std::vector<interlock::append_request> check_all(import_check& c, std::istream& in) {
  std::vector<interlock::append_request> batch;
  std::string text;
  for (std::size_t line = 1; std::getline(in, text); ++line)
    if (text.find_first_not_of(" \t\r") != std::string::npos) batch.push_back(check_line(c, line, text));
  if (in.bad()) throw tool_error{"cannot read " + c.input};
  return batch;
}

std::unique_ptr<interlock::journal> open_for_writing(const std::string& path) {
  auto j = interlock::open_sqlite_journal({path});
  if (!j) throw tool_error{interlock::message_of(j.error())};
  return std::move(*j);
}

// Appends the checked batch in one transaction; the positions it took.
std::pair<std::uint64_t, std::uint64_t> append_all(interlock::journal& j, const import_check& c,
                                                   const std::vector<interlock::append_request>& batch) {
  const auto results = j.append(batch);
  std::pair<std::uint64_t, std::uint64_t> positions{0, 0};
  std::string failures;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) failures += "\n  event " + std::to_string(i + 1) + ": " + interlock::message_of(results[i].error());
    else if (positions.first == 0) positions.first = results[i]->first_position;
    if (results[i]) positions.second = results[i]->last_position;
  }
  if (!failures.empty())
    throw tool_error{"the journal refused events of " + c.input + " (written meanwhile by another process?):" + failures};
  return positions;
}

int run_import(const import_options& o) {
  std::ifstream file;
  if (!o.in.empty() && o.in != "-") {
    file.open(o.in);
    if (!file) throw tool_error{"cannot read '" + o.in + "': " + std::strerror(errno)};
  }
  import_check c;
  c.input = file.is_open() ? "'" + o.in + "'" : "<stdin>";
  std::unique_ptr<interlock::journal> j;
  if (std::filesystem::exists(o.file)) {  // else checked against an empty journal, created only to append
    j = open_for_writing(o.file);
    c.journal = j.get();
    auto last = j->last_position();
    if (!last) throw tool_error{interlock::message_of(last.error())};
    c.journal_last = *last;
  }
  const auto batch = check_all(c, file.is_open() ? static_cast<std::istream&>(file) : std::cin);
  if (batch.empty()) return std::printf("nothing to import from %s\n", c.input.c_str()), 0;
  if (!j) j = open_for_writing(o.file);
  const auto [first, last] = append_all(*j, c, batch);
  std::printf("imported %zu events of %zu streams into %s at positions %llu..%llu\n", batch.size(), c.versions.size(),
              o.file.c_str(), static_cast<unsigned long long>(first), static_cast<unsigned long long>(last));
  return 0;
}

}  // namespace

command add_import(CLI::App& tool) {
  auto o = std::make_shared<import_options>();
  auto* app = tool.add_subcommand("import", "append JSON lines (as export writes them) to a journal, creating it "
                                            "if missing; refuses, writing nothing, what breaks versions or order");
  app->add_option("FILE", o->file, "the journal to append to")->required();
  app->add_option("-i,--input", o->in, "read this file instead of stdin");
  return {app, [o](const output&) { return run_import(*o); }};
}

}  // namespace journal_cli
