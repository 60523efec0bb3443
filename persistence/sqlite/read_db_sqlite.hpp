// read_db's SQLite backend (persistence/read_db_backend.hpp): statements
// prepared with sqlite3_prepare_v3 on a connection it does not own.
// Internal to persistence/.
#pragma once

#include <memory>

#include <interlock/persistence/read_db_backend.hpp>

struct sqlite3;

namespace interlock::sqlite {

std::unique_ptr<detail::sql_connection> make_read_db_backend(sqlite3* db);

}  // namespace interlock::sqlite
