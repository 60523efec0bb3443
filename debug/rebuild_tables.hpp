// For `rebuild` of a durable read model: a scratch SQLite file that removes
// itself, and the row-by-row comparison of its tables with the live read
// store's. Internal.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "console.hpp"
#include "sql_file.hpp"

namespace interlock::debug::detail {

/// A fresh SQLite file in the temp folder, deleted (with its WAL) on destruction.
class scratch_db {
 public:
  scratch_db();
  ~scratch_db();
  scratch_db(const scratch_db&) = delete;
  scratch_db& operator=(const scratch_db&) = delete;
  sql_file& file() { return *file_; }

 private:
  std::string path_;
  std::unique_ptr<sql_file> file_;
};

/// Compares every table of `rebuilt` with the table of that name in `live`
/// (rows as multisets: order does not count), printing per table its row
/// counts and each row only one side has ("- live ...", "+ rebuilt ...");
/// the number of differences (a table missing in `live` counts as one).
std::size_t compare_tables(const console& c, const sql_file& rebuilt, const sql_file& live);

}  // namespace interlock::debug::detail
