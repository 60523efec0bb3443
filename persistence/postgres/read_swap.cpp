// The shadow schema and the swap (read_swap.hpp). The catalog does the work:
// each statement the swap runs is written by the server (format('%I')),
// from what pg_class, pg_type and pg_proc hold, so names are quoted by the
// server's own rules.
#include <interlock/persistence/postgres/read_swap.hpp>

#include <cstdint>
#include <map>

#include <interlock/core/errors.hpp>

namespace interlock::postgres {
namespace {

// The read store's own tables (detail::is_store_table): never moved.
constexpr const char* store_tables = "('read_store_meta', 'projection_checkpoints', 'parked_events')";

std::string marker_of(const std::string& schema) {
  return "interlock: a rebuild beside read schema \"" + schema + "\"; projection ";
}

// An E'' literal: its escapes mean the same whatever standard_conforming_strings says.
std::string literal(std::string_view text) {
  std::string out = "E'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string hash_of(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a: the same name in every run
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i, h >>= 4) out.push_back(digits[h & 15]);
  return out;
}

caf::error refuse(const connection& db, const std::string& why) {
  return make_error(errc::storage, db.server() + ": " + why);
}

// The first row of `q` as "a (b)" texts, or "" if it has none.
caf::expected<std::string> first_row(connection& db, query q, std::chrono::milliseconds timeout) {
  auto r = db.run_one(std::move(q), timeout);
  if (!r) return std::move(r.error());
  if (r->rows() == 0) return std::string{};
  return std::string{r->text(0, 0)} + " (" + std::string{r->text(0, 1)} + ")";
}

// An object outside `shadow` that depends on one inside it (its triggers,
// rules and column defaults count as their table's).
query outside_dependent(const std::string& shadow) {
  return {"SELECT pg_describe_object(d.classid, d.objid, d.objsubid),"
          " 'needs ' || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)"
          " FROM pg_depend d"
          " CROSS JOIN LATERAL pg_identify_object(d.refclassid, d.refobjid, 0) r"
          " CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, 0) o"
          " LEFT JOIN pg_rewrite w ON d.classid = 'pg_rewrite'::regclass AND w.oid = d.objid"
          " LEFT JOIN pg_trigger g ON d.classid = 'pg_trigger'::regclass AND g.oid = d.objid"
          " LEFT JOIN pg_attrdef a ON d.classid = 'pg_attrdef'::regclass AND a.oid = d.objid"
          " LEFT JOIN pg_class oc ON oc.oid = coalesce(w.ev_class, g.tgrelid, a.adrelid)"
          " LEFT JOIN pg_namespace ons ON ons.oid = oc.relnamespace"
          " WHERE r.schema = $1::text AND d.deptype IN ('n', 'a')"
          " AND coalesce(ons.nspname, o.schema) IS DISTINCT FROM $1::text LIMIT 1",
          params{}.text(shadow)};
}

caf::expected<bool> is_shadow_of(connection& db, const std::string& schema, const std::string& shadow,
                                 std::chrono::milliseconds timeout) {
  auto r = db.run_one({"SELECT coalesce(starts_with(obj_description(oid, 'pg_namespace'), $2::text), false)"
                       " FROM pg_namespace WHERE nspname = $1::text",
                       params{}.text(shadow).text(marker_of(schema))},
                      timeout);
  if (!r) return std::move(r.error());
  if (r->rows() == 0) return false;
  if (r->text(0, 0) == "t") return true;
  return refuse(db, "schema '" + shadow + "' is not a rebuild of read schema '" + schema + "' (its comment does not "
                    "say so): it is someone else's, and is left as it is");
}

// `schema`'s relations whose names objects of `shadow` arrive with (the
// store's tables and their indexes aside): they are dropped first.
std::string doomed_relations() {
  return "WITH arriving AS (SELECT c.relname FROM pg_class c"
         " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $2::text"
         " LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid"
         " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'c')"
         " AND coalesce(t.relname, c.relname) NOT IN " + std::string{store_tables} + "),"
         " doomed AS (SELECT c.oid, c.relkind, c.relname FROM pg_class c"
         " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $1::text"
         " LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid"
         " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'c') AND c.relname IN (SELECT relname FROM arriving)"
         " AND coalesce(t.relname, c.relname) NOT IN " + std::string{store_tables} + ") ";
}

// The first object of `schema` that stays but depends on one to be dropped:
// a foreign key, a view, a column default or of its row type, a routine.
query dependent_that_stays(const std::string& schema, const std::string& shadow) {
  return {doomed_relations() +
              "SELECT CASE WHEN d.classid = 'pg_rewrite'::regclass THEN pg_describe_object('pg_class'::regclass,"
              " w.ev_class, 0) ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END,"
              " 'on ' || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)"
              " FROM pg_depend d"
              " LEFT JOIN pg_constraint k ON d.classid = 'pg_constraint'::regclass AND k.oid = d.objid"
              " LEFT JOIN pg_rewrite w ON d.classid = 'pg_rewrite'::regclass AND w.oid = d.objid"
              " LEFT JOIN pg_attrdef a ON d.classid = 'pg_attrdef'::regclass AND a.oid = d.objid"
              " LEFT JOIN pg_trigger g ON d.classid = 'pg_trigger'::regclass AND g.oid = d.objid"
              " WHERE d.deptype = 'n' AND ("
              "  (d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM doomed))"
              "  OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (SELECT t.oid FROM pg_type t JOIN doomed"
              "   ON t.typrelid = doomed.oid UNION SELECT t.typarray FROM pg_type t JOIN doomed ON t.typrelid = doomed.oid)))"
              " AND coalesce(nullif(k.conrelid, 0), w.ev_class, a.adrelid, g.tgrelid,"
              "  CASE WHEN d.classid = 'pg_class'::regclass THEN d.objid END, 0) NOT IN (SELECT oid FROM doomed)"
              " LIMIT 1",
          params{}.text(schema).text(shadow)};
}

// DROP statements for the doomed relations: views before what they read,
// tables before the sequences their defaults take, then indexes of tables
// that stay, then standalone composite types. IF EXISTS: an index or owned
// sequence may have gone with its table.
caf::expected<std::vector<query>> drop_doomed(connection& db, const std::string& schema, const std::string& shadow,
                                              std::chrono::milliseconds timeout) {
  auto r = db.run_one({doomed_relations() + "SELECT relkind::text, format('%I.%I', $1::text, relname) FROM doomed",
                       params{}.text(schema).text(shadow)},
                      timeout);
  if (!r) return std::move(r.error());
  std::map<char, std::string> by_kind;
  for (int row = 0; row < r->rows(); ++row) {
    auto& list = by_kind[r->text(row, 0).front()];
    list += (list.empty() ? "" : ", ") + std::string{r->text(row, 1)};
  }
  std::vector<query> out;
  const std::pair<const char*, const char*> order[] = {
      {"v", "VIEW"}, {"m", "MATERIALIZED VIEW"}, {"rp", "TABLE"}, {"S", "SEQUENCE"}, {"iI", "INDEX"}, {"c", "TYPE"}};
  for (auto [kinds, what] : order) {
    std::string names;
    for (const char* k = kinds; *k; ++k)
      if (auto it = by_kind.find(*k); it != by_kind.end()) names += (names.empty() ? "" : ", ") + it->second;
    if (!names.empty()) out.push_back({std::string{"DROP "} + what + " IF EXISTS " + names});
  }
  return out;
}

// Statements written by the server, one per row of `sql`'s first column.
caf::error add_written(connection& db, std::string sql, const std::string& schema, const std::string& shadow,
                       std::chrono::milliseconds timeout, std::vector<query>& out) {
  auto r = db.run_one({std::move(sql), params{}.text(schema).text(shadow)}, timeout);
  if (!r) return std::move(r.error());
  for (int row = 0; row < r->rows(); ++row) out.push_back({std::string{r->text(row, 0)}});
  return {};
}

// Routines of `schema` with a name and argument types one of `shadow` has,
// then its enums, domains and ranges of a name one of `shadow`'s types has
// (after the tables that used them, and the routines that took them).
constexpr const char* drop_routines_sql =
    "SELECT 'DROP ROUTINE ' || format('%I.%I(%s)', $1::text, p.proname, pg_get_function_identity_arguments(p.oid))"
    " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = $1::text"
    " WHERE p.prokind IN ('f', 'p') AND (p.proname, pg_get_function_identity_arguments(p.oid)) IN"
    " (SELECT s.proname, pg_get_function_identity_arguments(s.oid) FROM pg_proc s"
    "  JOIN pg_namespace sn ON sn.oid = s.pronamespace AND sn.nspname = $2::text WHERE s.prokind IN ('f', 'p'))"
    " ORDER BY p.oid";

constexpr const char* drop_types_sql =
    "SELECT CASE t.typtype WHEN 'd' THEN 'DROP DOMAIN ' ELSE 'DROP TYPE ' END || format('%I.%I', $1::text, t.typname)"
    " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = $1::text"
    " WHERE t.typtype IN ('e', 'd', 'r') AND t.typname IN (SELECT s.typname FROM pg_type s"
    "  JOIN pg_namespace sn ON sn.oid = s.typnamespace AND sn.nspname = $2::text WHERE s.typtype <> 'b')"
    " ORDER BY t.oid";

// The moves: routines first (their argument types are named as they are
// before the types move), then types, then relations (a sequence a column
// owns goes with its table).
std::string move_sql() {
  std::string sql =
      "SELECT stmt FROM ("
      " SELECT 0 AS step, p.oid AS o, format('ALTER ROUTINE %I.%I(%s) SET SCHEMA %I', $2::text, p.proname,"
      "  pg_get_function_identity_arguments(p.oid), $1::text) AS stmt"
      " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = $2::text"
      " WHERE p.prokind IN ('f', 'p')"
      " UNION ALL"
      " SELECT 1, t.oid, format('ALTER %s %I.%I SET SCHEMA %I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,"
      "  $2::text, t.typname, $1::text)"
      " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = $2::text"
      " WHERE t.typtype IN ('e', 'd', 'r')"
      " UNION ALL"
      " SELECT 2, c.oid, format('ALTER %s %I.%I SET SCHEMA %I', CASE c.relkind WHEN 'v' THEN 'VIEW'"
      "  WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END,"
      "  $2::text, c.relname, $1::text)"
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $2::text"
      " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c') AND c.relname NOT IN ";
  sql.append(store_tables);
  sql.append(
      " AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
      "  AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))"
      ") x ORDER BY step, o");
  return sql;
}

}  // namespace

std::string shadow_schema_for(const std::string& schema, std::string_view name) {
  std::string tag;
  for (unsigned char c : name) {
    const char lower = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    tag += (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') || lower == '_' ? lower : '_';
  }
  const auto hash = hash_of(schema + '\n' + std::string{name});
  constexpr std::size_t fixed = 9 + 1 + 12;  // "_rebuild_", "_", the hash
  const auto base = schema.substr(0, std::min<std::size_t>(schema.size(), 30));
  tag = tag.substr(0, 63 - fixed - base.size());
  return base + "_rebuild_" + tag + "_" + hash;
}

std::string shadow_comment_for(const std::string& schema, std::string_view name) {
  return marker_of(schema) + std::string{name};
}

caf::error create_shadow_schema(connection& db, const std::string& schema, const std::string& shadow,
                                std::string_view name, std::chrono::milliseconds timeout) {
  auto left = is_shadow_of(db, schema, shadow, timeout);
  if (!left) return std::move(left.error());
  if (*left)  // a crash left it: its rebuild cannot go on
    if (auto err = drop_shadow_schema(db, schema, shadow, timeout)) return err;
  auto r = db.run({{"CREATE SCHEMA \"" + shadow + "\""},
                   {"COMMENT ON SCHEMA \"" + shadow + "\" IS " + literal(shadow_comment_for(schema, name))}},
                  timeout);
  return r ? caf::error{} : std::move(r.error());
}

caf::error drop_shadow_schema(connection& db, const std::string& schema, const std::string& shadow,
                              std::chrono::milliseconds timeout) {
  auto ours = is_shadow_of(db, schema, shadow, timeout);
  if (!ours) return std::move(ours.error());
  if (!*ours) return {};
  auto needed = first_row(db, outside_dependent(shadow), timeout);
  if (!needed) return std::move(needed.error());
  if (!needed->empty())
    return refuse(db, "schema '" + shadow + "' (a rebuild's) is not dropped: " + *needed + " outside it");
  auto r = db.run_one({"DROP SCHEMA \"" + shadow + "\" CASCADE"}, timeout);
  return r ? caf::error{} : std::move(r.error());
}

caf::expected<std::vector<std::string>> shadow_schemas_of(connection& db, const std::string& schema,
                                                          std::chrono::milliseconds timeout) {
  auto r = db.run_one({"SELECT nspname FROM pg_namespace WHERE starts_with(obj_description(oid, 'pg_namespace'),"
                       " $1::text) ORDER BY nspname",
                       params{}.text(marker_of(schema))},
                      timeout);
  if (!r) return std::move(r.error());
  std::vector<std::string> out;
  for (int row = 0; row < r->rows(); ++row) out.emplace_back(r->text(row, 0));
  return out;
}

caf::error move_shadow_objects(connection& db, const std::string& schema, const std::string& shadow,
                               std::chrono::milliseconds timeout) {
  auto blocking = first_row(db, dependent_that_stays(schema, shadow), timeout);
  if (!blocking) return std::move(blocking.error());
  if (!blocking->empty())
    return refuse(db, "the rebuilt tables cannot replace the ones in read schema '" + schema + "': " + *blocking +
                          " stays and would lose what it depends on (drop it, or have the projection create it)");
  auto steps = drop_doomed(db, schema, shadow, timeout);
  if (!steps) return std::move(steps.error());
  if (auto err = add_written(db, drop_routines_sql, schema, shadow, timeout, *steps)) return err;
  if (auto err = add_written(db, drop_types_sql, schema, shadow, timeout, *steps)) return err;
  if (auto err = add_written(db, move_sql(), schema, shadow, timeout, *steps))
    return err;
  if (!steps->empty())
    if (auto r = db.run(*steps, timeout); !r) return std::move(r.error());
  auto left = first_row(db, outside_dependent(shadow), timeout);
  if (!left) return std::move(left.error());
  if (!left->empty())
    return refuse(db, "the rebuilt tables cannot replace the ones in read schema '" + schema + "': " + *left +
                          ", which a swap does not move (only tables, views, sequences, types and routines move)");
  return {};
}

}  // namespace interlock::postgres
