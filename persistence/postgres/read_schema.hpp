// The PostgreSQL read store's schema: its tables (format 1) and the lock that
// makes one process at a time its owner. Internal to the PostgreSQL read store.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <interlock/persistence/postgres/connection.hpp>

namespace interlock::postgres {

inline constexpr std::int64_t read_store_format = 1;

/// Creates `schema` and the store's tables if missing and checks what it
/// holds: errc::storage naming the schema and server for the journal's
/// schema, one with tables but no read_store_meta, or another format.
caf::error create_or_check_read_schema(connection& db, const std::string& schema, std::chrono::milliseconds timeout);

/// A session advisory lock on a read schema, held on a connection of its own
/// while the object lives: durable read models written by two processes at
/// once would apply each event twice. The stores of one factory share one
/// (from any thread).
class read_schema_lock {
 public:
  /// Takes the lock; errc::storage naming the schema if another session holds it.
  static caf::expected<std::shared_ptr<read_schema_lock>> take(const std::string& url, const std::string& schema,
                                                               std::chrono::milliseconds timeout);
  /// A query, for another connection, whose one cell is `t` while the lock
  /// is held by this object's session.
  query held() const;
  /// Takes the lock again (or errc::storage as take()) after held() said it
  /// was lost: its session ended (a server restart, a connection cut), so
  /// another process may have taken it.
  caf::error retake();

 private:
  read_schema_lock(connection db, std::string schema, std::chrono::milliseconds timeout)
      : db_(std::move(db)), schema_(std::move(schema)), timeout_(timeout) {}
  caf::error acquire();

  connection db_;
  std::string schema_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex mutex_;  // the stores sharing it may be on other threads
  std::string session_pid_;   // the server process of the session that holds it
};

}  // namespace interlock::postgres
