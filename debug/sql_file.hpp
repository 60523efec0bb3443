// A SQLite connection for the console's direct reads: the journal's
// snapshots, the read store's checkpoints and tables, and rebuild's scratch
// copy. Every failure is a `failure` naming the file. Internal.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace interlock::debug::detail {

class sql_file {
 public:
  enum class mode { read_only, create };
  /// Opens `path` (read_only: it must exist); `what` names it in errors ("journal", "read store").
  sql_file(const std::string& path, mode m, std::string what);
  ~sql_file();
  sql_file(const sql_file&) = delete;
  sql_file& operator=(const sql_file&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  /// Runs `sql` with text parameters; `row` gets each row's columns as JSON
  /// values (integers, reals, text; NULL as null; blobs as their size).
  void each(const std::string& sql, const std::vector<std::string>& params,
            const std::function<void(const std::vector<nlohmann::json>&)>& row) const;
  void exec(const std::string& sql) const;
  bool has_table(const std::string& name) const;

 private:
  [[noreturn]] void fail(const std::string& doing) const;
  std::string path_;
  std::string what_;
  sqlite3* db_ = nullptr;
};

}  // namespace interlock::debug::detail
