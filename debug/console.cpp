#include "console.hpp"

#include <filesystem>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/read_store.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/runtime/detail/builder_access.hpp>

#include "../tools/journal_cli/output.hpp"

namespace interlock::debug::detail {

using access = interlock::detail::builder_access;

std::string console::paint(std::string_view text, style s) const {
  static constexpr const char* codes[] = {"", "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m"};
  if (!color_ || s == style::plain) return std::string{text};
  return codes[static_cast<int>(s)] + std::string{text} + "\x1b[0m";
}

std::string console::journal_path() const {
  const auto& s = access::settings(builder_);
  if (access::own_journal(builder_))
    throw failure{"the application uses a journal of its own (application_builder::journal()): the console reads "
                  "SQLite journal files only"};
  if (s.in_memory) throw failure{"the journal is in memory: nothing is stored to debug (give a journal file)"};
  return s.database_path;
}

std::string console::read_store_path() const {
  const auto& s = access::settings(builder_);
  return s.read_store_path.empty() ? read_store_path_for(journal_path()) : s.read_store_path;
}

std::unique_ptr<journal> console::open_journal() const {
  auto path = journal_path();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw failure{"no journal file at '" + path + "'"};
  auto j = open_sqlite_journal(sqlite_options{path});
  if (!j) throw failure{"journal '" + path + "': " + message_of(j.error())};
  return std::move(*j);
}

namespace {

template <class Kinds, class Skip>
std::string names_of(const Kinds& kinds, Skip skip) {
  std::string names;
  for (auto& k : kinds)
    if (!skip(*k)) names += (names.empty() ? "" : ", ") + k->type_name;
  return names.empty() ? "none" : names;
}

}  // namespace

const interlock::detail::aggregate_kind& console::aggregate(const std::string& name) const {
  const auto& kinds = access::aggregates(builder_);
  for (auto& k : kinds)
    if (k->type_name == name) return *k;
  throw failure{"no aggregate type '" + name + "' is registered (registered: " +
                names_of(kinds, [](auto&) { return false; }) + ")"};
}

const interlock::detail::projection_kind& console::projection(const std::string& name) const {
  const auto& kinds = access::projections(builder_);
  auto is_process = [&](const interlock::detail::projection_kind& k) {
    return access::is_process(builder_, k.type_name);
  };
  for (auto& k : kinds)
    if (k->type_name == name) {
      if (is_process(*k))
        throw failure{"'" + name + "' is a processor or saga: rebuild compares read models only"};
      return *k;
    }
  throw failure{"no projection '" + name + "' is registered (registered: " + names_of(kinds, is_process) + ")"};
}

stream_name stream_name::parse(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size())
    throw failure{"STREAM must be Type/id (e.g. BankAccount/01J...), not '" + text + "'", 2};
  return {text.substr(0, slash), text.substr(slash + 1)};
}

std::string iso_time(std::int64_t us_since_epoch) { return journal_cli::iso_time(us_since_epoch, true); }

std::int64_t parse_time(const std::string& text) {
  auto us = journal_cli::parse_iso_time(text);
  if (!us) throw failure{"--at: '" + text + "' is not an ISO-8601 time (e.g. 2026-12-05T08:26:24Z)", 2};
  return *us;
}

}  // namespace interlock::debug::detail
