// A durable read model's rebuild on the PostgreSQL read store: the shadow
// schema its tables are built in, beside the read schema on the same server,
// and the swap that moves them into the read schema. Internal to the
// PostgreSQL read store (persistence/postgres_read_store.cpp).
//
// A shadow schema is marked as one by its COMMENT, which names the read
// schema it belongs to: only schemas so marked are ever dropped.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <interlock/persistence/postgres/connection.hpp>

namespace interlock::postgres {

/// The shadow schema of projection `name`'s rebuild beside read schema
/// `schema`: "<schema>_rebuild_<name, lowercase, [a-z0-9_] only>_<hash of
/// both>", the first two parts cut so that it fits 63 bytes.
std::string shadow_schema_for(const std::string& schema, std::string_view name);

/// The COMMENT ON SCHEMA that marks projection `name`'s shadow schema as a
/// rebuild beside read schema `schema`.
std::string shadow_comment_for(const std::string& schema, std::string_view name);

/// On `db`, inside a transaction: drops `shadow` if a rebuild left it (never
/// another schema of that name: errc::storage naming it), and creates it,
/// marked as projection `name`'s rebuild beside `schema`.
caf::error create_shadow_schema(connection& db, const std::string& schema, const std::string& shadow,
                                std::string_view name, std::chrono::milliseconds timeout);

/// On `db`, inside a transaction: drops `shadow`, a shadow schema of read
/// schema `schema`, with what it holds; errc::storage naming it if it is not
/// one, or if an object outside it depends on one inside.
caf::error drop_shadow_schema(connection& db, const std::string& schema, const std::string& shadow,
                              std::chrono::milliseconds timeout);

/// The shadow schemas of read schema `schema` on `db`'s server.
caf::expected<std::vector<std::string>> shadow_schemas_of(connection& db, const std::string& schema,
                                                          std::chrono::milliseconds timeout);

/// On `db`, inside a transaction: moves what `shadow` holds into `schema`
/// (the read store's own tables aside), replacing the objects of the same
/// names there (ALTER ... SET SCHEMA; a table takes its indexes,
/// constraints, owned sequences and triggers with it):
///  - tables, views, materialized views, sequences no column owns, standalone
///    composite types, enums, domains, range types, functions and procedures;
///    `schema`'s objects of those names (for functions: name and argument
///    types) are dropped first, without CASCADE;
///  - errc::storage naming it if an object of `schema` that stays (a foreign
///    key, a view, a column default) depends on one to be dropped, or if
///    anything outside `shadow` depends on what stays in it (a kind of
///    object not moved: operators, collations, aggregates...).
/// The caller rolls back on an error.
caf::error move_shadow_objects(connection& db, const std::string& schema, const std::string& shadow,
                               std::chrono::milliseconds timeout);

}  // namespace interlock::postgres
