// The PostgreSQL journal's tables, and the check of a schema's format version.
// Internal to the PostgreSQL journal.
#pragma once

#include <chrono>
#include <string>

#include <caf/error.hpp>

#include <interlock/persistence/postgres/connection.hpp>

namespace interlock::postgres {

/// Whether `name` may name the journal's schema: a lowercase SQL identifier
/// (letters, digits, _; not starting with a digit; at most 63 bytes).
bool valid_schema_name(const std::string& name);

/// Creates `schema` and its tables if missing, in one transaction under an
/// advisory lock, then checks the format version it holds: errc::storage
/// naming the server and schema if it is not this build's.
caf::error create_or_check_schema(connection& db, const std::string& schema, std::chrono::milliseconds timeout);

}  // namespace interlock::postgres
