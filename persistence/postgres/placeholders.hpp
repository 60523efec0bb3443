// read_db's `?` parameters in PostgreSQL's spelling: each `?` becomes $1, $2,
// ... in order (`?NNN`, SQLite's numbered form, becomes $NNN). A `?` inside
// a string literal ('...', E'...' with its backslash escapes, $tag$...$tag$),
// a quoted name ("...") or a comment (-- to the line's end, /* ... */, which
// nest on PostgreSQL) is left as it is. Internal to the PostgreSQL read store.
#pragma once

#include <string>
#include <string_view>

namespace interlock::postgres {

struct numbered_sql {
  std::string sql;
  int parameters = 0;  // the highest number given
};

numbered_sql number_placeholders(std::string_view sql);

}  // namespace interlock::postgres
