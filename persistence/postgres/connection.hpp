// One connection to a PostgreSQL server, in libpq's pipeline mode, where
// nothing blocks without a bound: connecting and every round trip give up
// after their timeout (a server that vanished mid-answer is not waited for
// forever), and a connection that timed out or broke is closed; the caller
// opens a new one (reopen()) before its next transaction, never inside one.
//
// Every failure is an errc::storage error whose message names the server
// (host, port, database, user; never the password) and what happened, with
// the server's own message and SQLSTATE when it sent one.
// Used by one thread at a time. Internal to the PostgreSQL journal and read store.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <interlock/persistence/postgres/params.hpp>
#include <interlock/persistence/postgres/result.hpp>

struct pg_conn;  // libpq's PGconn

namespace interlock::postgres {

class connection {
 public:
  /// Connects to `url` (a postgresql:// URL or libpq's key=value form),
  /// giving up after `timeout`.
  static caf::expected<connection> open(const std::string& url, std::chrono::milliseconds timeout);

  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Sends `queries` as one pipeline ending in a sync (one round trip) and
  /// returns one result per query, or the first failure: a statement the
  /// server refused (the statements after it are skipped; a transaction the
  /// pipeline opened is then in error and must be rolled back), or a
  /// connection that broke or stayed silent for `timeout` (then closed).
  caf::expected<std::vector<result>> run(const std::vector<query>& queries, std::chrono::milliseconds timeout);

  /// run() of one statement.
  caf::expected<result> run_one(query q, std::chrono::milliseconds timeout);

  /// Between statements, on a connection that LISTENs: waits until a
  /// notification comes, `wake_fd` (>= 0) is readable or `timeout` passes,
  /// and returns the payloads that came (empty: none). errc::storage if the
  /// connection broke (it is then closed).
  caf::expected<std::vector<std::string>> notifications(std::chrono::milliseconds timeout, int wake_fd);

  /// False once the connection broke or timed out.
  bool usable() const;
  /// True inside a transaction block (also one that failed).
  bool in_transaction() const;
  /// True inside a transaction block a refused statement ended (its COMMIT
  /// would roll it back).
  bool transaction_failed() const;
  /// Closes this connection and opens a new one to the same server.
  caf::error reopen(std::chrono::milliseconds timeout);
  /// The SQLSTATE of the last statement the server refused ("" if none).
  const std::string& last_sqlstate() const { return sqlstate_; }
  /// "PostgreSQL server HOST:PORT (database D, user U)", for messages.
  const std::string& server() const { return server_; }

 private:
  connection(std::string url, pg_conn* conn, std::string server);
  caf::error send(const std::vector<query>& queries, std::chrono::steady_clock::time_point deadline,
                  std::chrono::milliseconds timeout);
  caf::expected<std::vector<result>> receive(std::size_t count, std::chrono::steady_clock::time_point deadline,
                                             std::chrono::milliseconds timeout);
  std::string refused(pg_result* r);
  static std::string silent(std::chrono::milliseconds timeout);
  caf::error fail(const std::string& what);
  void close();

  std::string url_;
  pg_conn* conn_ = nullptr;
  std::string server_;
  std::string sqlstate_;
};

}  // namespace interlock::postgres
