// read_db's PostgreSQL backend (persistence/read_db_backend.hpp) on the read
// store's connection: each SQL text's `?` numbered ($1, ...), prepared once
// per connection under a name of its own, run with its parameters as text
// (their types the statement's), its rows read whole, then as text by type.
// Internal to the PostgreSQL read store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <interlock/persistence/postgres/connection.hpp>
#include <interlock/persistence/read_db_backend.hpp>

namespace interlock::postgres {

/// What the backend runs on, owned by the read store.
struct read_db_session {
  connection* db = nullptr;
  std::chrono::milliseconds timeout{10'000};
  /// Bumped by the store when it replaces `db` by a new connection: the
  /// statements prepared on the old one are gone, and are prepared again.
  std::uint64_t generation = 0;
  /// Replaces a connection that broke, outside a transaction; an error if it
  /// cannot (or must not: inside one).
  std::function<caf::error()> reconnect;
};

std::unique_ptr<detail::sql_connection> make_read_db_backend(read_db_session& session);

}  // namespace interlock::postgres
