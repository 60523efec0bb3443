#include "rebuild_tables.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <random>

namespace interlock::debug::detail {

namespace {

using json = nlohmann::json;

std::string scratch_path() {
  std::random_device rd;
  auto name = "interlock-debug-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + ".db";
  return (std::filesystem::temp_directory_path() / name).string();
}

std::vector<std::string> tables_of(const sql_file& db) {
  std::vector<std::string> names;
  db.each("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", {},
          [&](const std::vector<json>& r) { names.push_back(r[0].get<std::string>()); });
  return names;
}

std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (char ch : name) out += ch == '"' ? std::string{"\"\""} : std::string{ch};
  return out + "\"";
}

// The rows of `table`, each as a JSON array, sorted.
std::vector<std::string> rows_of(const sql_file& db, const std::string& table) {
  std::vector<std::string> rows;
  db.each("SELECT * FROM " + quoted(table), {}, [&](const std::vector<json>& r) { rows.push_back(json(r).dump()); });
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::string columns_of(const sql_file& db, const std::string& table) {
  std::string names;
  db.each("SELECT name FROM pragma_table_info(?)", {table},
          [&](const std::vector<json>& r) { names += (names.empty() ? "" : ", ") + r[0].get<std::string>(); });
  return names;
}

std::vector<std::string> only_in(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::size_t compare_table(const console& c, const sql_file& rebuilt, const sql_file& live, const std::string& t) {
  if (!live.has_table(t)) {
    c.out() << "  table " << t << ": " << c.paint("missing in the live read store", style::red) << "\n";
    return 1;
  }
  const auto mine = rows_of(rebuilt, t), theirs = rows_of(live, t);
  const auto gone = only_in(theirs, mine), extra = only_in(mine, theirs);
  c.out() << "  table " << t << " (" << columns_of(rebuilt, t) << "): " << mine.size() << " rows rebuilt, "
          << theirs.size() << " live\n";
  for (const auto& r : gone) c.out() << "    " << c.paint("- live    " + r, style::red) << "\n";
  for (const auto& r : extra) c.out() << "    " << c.paint("+ rebuilt " + r, style::green) << "\n";
  return gone.size() + extra.size();
}

}  // namespace

scratch_db::scratch_db()
    : path_(scratch_path()), file_(std::make_unique<sql_file>(path_, sql_file::mode::create, "scratch copy")) {}

scratch_db::~scratch_db() {
  file_.reset();
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path_ + suffix, ignored);
}

std::size_t compare_tables(const console& c, const sql_file& rebuilt, const sql_file& live) {
  std::size_t differences = 0;
  for (const auto& t : tables_of(rebuilt)) differences += compare_table(c, rebuilt, live, t);
  c.out() << (differences == 0 ? c.paint("no differences", style::green)
                               : c.paint(std::to_string(differences) + " differences", style::red))
          << "\n";
  return differences;
}

}  // namespace interlock::debug::detail
