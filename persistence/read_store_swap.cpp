#include <interlock/persistence/read_store_swap.hpp>

#include <algorithm>
#include <tuple>
#include <vector>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/read_db.hpp>

namespace interlock::detail {
namespace {

struct object {
  std::string type, name, sql;
};

std::string sql_name(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string{"\"\""} : std::string{c};
  return out + "\"";
}

std::vector<object> objects_of(read_db& db, const std::string& schema) {
  std::vector<std::string> own;  // the tables a virtual table keeps for itself
  for (auto [name] : db.rows<std::string>("SELECT name FROM pragma_table_list WHERE schema = ? AND type = 'shadow'",
                                          schema))
    own.push_back(name);
  std::vector<object> out;
  for (auto [type, name, table, sql] : db.rows<std::string, std::string, std::string, std::string>(
           "SELECT type, name, tbl_name, sql FROM " + sql_name(schema) + ".sqlite_schema WHERE sql IS NOT NULL "
           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid")) {
    if (is_store_table(table) || std::find(own.begin(), own.end(), table) != own.end()) continue;
    out.push_back({type, name, sql});
  }
  return out;
}

bool has_table(read_db& db, const std::string& schema, const std::string& name) {
  return db.value<std::int64_t>("SELECT count(*) FROM " + sql_name(schema) + ".sqlite_schema WHERE name = ?", name)
             .value_or(0) > 0;
}

// Drops main's object called `name` (names are not case-sensitive), whatever it is.
void drop(read_db& db, const std::string& name) {
  auto type = db.value<std::string>("SELECT type FROM main.sqlite_schema WHERE name = ? COLLATE NOCASE", name);
  if (!type) return;
  std::string kind = *type;
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  db.exec("DROP " + kind + " main." + sql_name(name));
}

// The column list of `table` as an INSERT and its SELECT name it: each
// stored column, and the rowid under a name no column has (none in a table
// WITHOUT ROWID, or with columns called rowid, _rowid_ and oid).
std::string columns_of(read_db& db, const std::string& schema, const std::string& table) {
  std::vector<std::string> names;
  for (auto [name] : db.rows<std::string>("SELECT name FROM pragma_table_info(?, ?)", table, schema))
    names.push_back(name);
  std::string out;
  const auto without_rowid =
      db.value<bool>("SELECT wr FROM pragma_table_list WHERE schema = ? AND name = ?", schema, table).value_or(false);
  if (!without_rowid)
    for (const char* alias : {"rowid", "_rowid_", "oid"}) {
      auto same = [&](const std::string& n) {
        return std::equal(n.begin(), n.end(), alias, alias + std::char_traits<char>::length(alias),
                          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
      };
      if (std::none_of(names.begin(), names.end(), same)) {
        out = alias;
        break;
      }
    }
  for (auto& n : names) out += (out.empty() ? "" : ", ") + sql_name(n);
  return out;
}

void copy_table(read_db& db, const std::string& schema, const object& t) {
  drop(db, t.name);
  db.exec(t.sql);  // unqualified, CREATE makes it in main
  const auto columns = columns_of(db, schema, t.name);
  db.exec("INSERT INTO main." + sql_name(t.name) + " (" + columns + ") SELECT " + columns + " FROM " + sql_name(schema) +
          "." + sql_name(t.name));
  // AUTOINCREMENT's counter goes on from where the shadow's was, not from its last row.
  if (!has_table(db, schema, "sqlite_sequence") || !has_table(db, "main", "sqlite_sequence")) return;
  db.exec("DELETE FROM main.sqlite_sequence WHERE name = ?", t.name);
  db.exec("INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM " + sql_name(schema) +
              ".sqlite_sequence WHERE name = ?",
          t.name);
}

}  // namespace

bool is_store_table(const std::string& name) {
  return name == "read_store_meta" || name == "projection_checkpoints" || name == "parked_events";
}

caf::error copy_shadow_schema(read_db& db, const std::string& schema) {
  try {
    const auto objects = objects_of(db, schema);
    for (auto& o : objects)
      if (o.type == "table") copy_table(db, schema, o);
    for (auto& o : objects)
      if (o.type != "table") {
        drop(db, o.name);
        db.exec(o.sql);
      }
    return {};
  } catch (const sql_error& err) {
    return make_error(errc::storage, std::string{"swapping in the rebuilt tables: "} + err.what());
  }
}

}  // namespace interlock::detail
