// The connection's round trips: libpq in non-blocking pipeline mode, the
// socket waited on with poll() against a deadline, so no call here blocks
// without a bound.
#include <interlock/persistence/postgres/connection.hpp>

#include <poll.h>

#include <cerrno>

#include <libpq-fe.h>

#include <interlock/core/errors.hpp>

namespace interlock::postgres {
namespace detail {

using clock = std::chrono::steady_clock;

enum class waited { ready, timed_out, failed };

// Waits until `conn`'s socket is readable (or, with `write`, writable) or
// `deadline` passes.
waited wait_socket(pg_conn* conn, bool write, clock::time_point deadline) {
  const int fd = PQsocket(conn);
  if (fd < 0) return waited::failed;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return waited::timed_out;
    pollfd p{fd, static_cast<short>(write ? POLLOUT | POLLIN : POLLIN), 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (rc > 0) return waited::ready;
    if (rc < 0 && errno != EINTR) return waited::failed;
  }
}

std::string text_or(const char* text, const char* otherwise) { return text && *text ? text : otherwise; }

// libpq's messages end in a newline (sometimes two lines): one line for ours.
std::string one_line(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  for (auto& c : message)
    if (c == '\n') c = ' ';
  return message;
}

std::string describe_server(pg_conn* conn) {
  if (!conn) return "PostgreSQL server (unknown)";
  return "PostgreSQL server " + text_or(PQhost(conn), "(default host)") + ":" + text_or(PQport(conn), "5432") +
         " (database " + text_or(PQdb(conn), "(default)") + ", user " + text_or(PQuser(conn), "(default)") + ")";
}

// Connects without blocking past `deadline`: PQconnectStartParams, then
// PQconnectPoll whenever the socket is ready.
pg_conn* connect(const std::string& url, clock::time_point deadline, std::string& error) {
  // The application name before the URL, which may override it; the
  // encoding after it, so that nothing (the URL, PGCLIENTENCODING) does: the
  // journal's text is UTF-8, and the server must convert from UTF-8 (or
  // refuse what its database encoding cannot hold), never store the bytes
  // as another encoding's characters.
  const char* keys[] = {"application_name", "dbname", "client_encoding", nullptr};
  const char* values[] = {"interlock", url.c_str(), "UTF8", nullptr};
  pg_conn* conn = PQconnectStartParams(keys, values, 1);
  if (!conn) {
    error = "out of memory";
    return nullptr;
  }
  auto status = PQstatus(conn) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED) {
    const auto w = wait_socket(conn, status == PGRES_POLLING_WRITING, deadline);
    if (w == waited::timed_out) {
      error = "no answer while connecting (timed out)";
      return conn;
    }
    status = PQconnectPoll(conn);
  }
  if (status == PGRES_POLLING_FAILED) error = one_line(PQerrorMessage(conn));
  return conn;
}

}  // namespace detail

caf::expected<connection> connection::open(const std::string& url, std::chrono::milliseconds timeout) {
  std::string error;
  pg_conn* conn = detail::connect(url, detail::clock::now() + timeout, error);
  const auto server = detail::describe_server(conn);
  // The server's notices (DROP ... CASCADE lists what it drops) are not errors:
  // libpq's default would print them on stderr.
  if (error.empty()) PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  if (error.empty() && (PQsetnonblocking(conn, 1) != 0 || PQenterPipelineMode(conn) != 1))
    error = "cannot enter pipeline mode: " + detail::one_line(PQerrorMessage(conn));
  if (!error.empty()) {
    if (conn) PQfinish(conn);
    return make_error(errc::storage, "cannot connect to " + server + ": " + error);
  }
  return connection{url, conn, server};
}

connection::connection(std::string url, pg_conn* conn, std::string server)
    : url_(std::move(url)), conn_(conn), server_(std::move(server)) {}

connection::connection(connection&& other) noexcept
    : url_(std::move(other.url_)), conn_(other.conn_), server_(std::move(other.server_)),
      sqlstate_(std::move(other.sqlstate_)) {
  other.conn_ = nullptr;
}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    url_ = std::move(other.url_);
    conn_ = other.conn_;
    other.conn_ = nullptr;
    server_ = std::move(other.server_);
    sqlstate_ = std::move(other.sqlstate_);
  }
  return *this;
}

connection::~connection() { close(); }

void connection::close() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

bool connection::usable() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

bool connection::in_transaction() const {
  if (!usable()) return false;
  const auto s = PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool connection::transaction_failed() const { return usable() && PQtransactionStatus(conn_) == PQTRANS_INERROR; }

caf::error connection::reopen(std::chrono::milliseconds timeout) {
  auto fresh = open(url_, timeout);
  if (!fresh) return std::move(fresh.error());
  *this = std::move(*fresh);
  return {};
}

// A broken or silent connection is closed: what it was doing is unknown, and
// the next transaction must start on a new one.
caf::error connection::fail(const std::string& what) {
  const auto message = conn_ ? detail::one_line(PQerrorMessage(conn_)) : std::string{};
  close();
  return make_error(errc::storage, server_ + ": " + what + (message.empty() ? "" : ": " + message));
}

namespace detail {

// The next result of the pipeline, waiting for it until `deadline`; nullptr
// with `timed_out` or `broken` set when none came.
pg_result* next_result(pg_conn* conn, clock::time_point deadline, bool& timed_out, bool& broken) {
  while (PQisBusy(conn)) {
    const auto w = wait_socket(conn, false, deadline);
    if (w != waited::ready) {
      (w == waited::timed_out ? timed_out : broken) = true;
      return nullptr;
    }
    if (!PQconsumeInput(conn)) {
      broken = true;
      return nullptr;
    }
  }
  return PQgetResult(conn);
}

// Sends what libpq holds, waiting for the socket until `deadline`; false if
// the connection broke or stayed blocked.
bool flush(pg_conn* conn, clock::time_point deadline, bool& timed_out) {
  for (;;) {
    const int rc = PQflush(conn);
    if (rc == 0) return true;
    if (rc < 0) return false;
    const auto w = wait_socket(conn, true, deadline);
    if (w != waited::ready) {
      timed_out = w == waited::timed_out;
      return false;
    }
    if (!PQconsumeInput(conn)) return false;  // the server may answer while we write: read it
  }
}


}  // namespace detail

caf::expected<std::vector<result>> connection::run(const std::vector<query>& queries,
                                                   std::chrono::milliseconds timeout) {
  if (!usable()) return fail("the connection is closed");
  sqlstate_.clear();
  const auto deadline = detail::clock::now() + timeout;
  if (auto err = send(queries, deadline, timeout)) return err;
  return receive(queries.size(), deadline, timeout);
}

// Queues every statement and the sync, then writes them out.
caf::error connection::send(const std::vector<query>& queries, std::chrono::steady_clock::time_point deadline,
                            std::chrono::milliseconds timeout) {
  for (const auto& q : queries) {
    const auto values = q.args.pointers();
    const int n = static_cast<int>(values.size());
    const int sent = q.name.empty()  ? PQsendQueryParams(conn_, q.sql.c_str(), n, nullptr, values.data(), nullptr,
                                                         nullptr, 0)
                     : q.sql.empty() ? PQsendQueryPrepared(conn_, q.name.c_str(), n, values.data(), nullptr, nullptr, 0)
                                     : PQsendPrepare(conn_, q.name.c_str(), q.sql.c_str(), 0, nullptr);
    if (!sent) return fail("cannot send a statement");
  }
  if (!PQpipelineSync(conn_)) return fail("cannot send the pipeline");
  bool timed_out = false;
  if (!detail::flush(conn_, deadline, timed_out))
    return fail(timed_out ? silent(timeout) : "the connection broke");
  return {};
}

std::string connection::silent(std::chrono::milliseconds timeout) {
  return "no answer within " + std::to_string(timeout.count()) + " ms (timed out)";
}

// Reads `count` statements' results and the sync. Each statement's results
// end in a null; a refused statement's error is kept (the ones after it come
// back aborted) and returned once the sync is read.
caf::expected<std::vector<result>> connection::receive(std::size_t count, std::chrono::steady_clock::time_point deadline,
                                                       std::chrono::milliseconds timeout) {
  std::vector<result> out;
  std::string refusal;
  // What the server said before it went (e.g. that it was shut down) says most.
  const auto lost = [&](const std::string& what) { return fail(refusal.empty() ? what : refusal + "; then " + what); };
  bool timed_out = false, broken = false;
  for (std::size_t i = 0; i <= count; ++i) {
    for (;;) {
      result r{detail::next_result(conn_, deadline, timed_out, broken)};
      if (timed_out) return lost(silent(timeout));
      const auto status = r.get() ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
      if (r.get() && status == PGRES_FATAL_ERROR && refusal.empty()) refusal = refused(r.get());
      if (broken || PQstatus(conn_) == CONNECTION_BAD) return lost("the connection broke");
      if (i == count) {  // the sync
        if (status != PGRES_PIPELINE_SYNC) return lost("the pipeline lost its sync");
        break;
      }
      if (!r.get()) break;
      if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) out.push_back(std::move(r));
    }
  }
  if (!refusal.empty()) return make_error(errc::storage, server_ + ": " + refusal);
  return out;
}

// The server's message and SQLSTATE for a refused statement (kept for last_sqlstate()).
std::string connection::refused(pg_result* r) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  sqlstate_ = state ? state : "";
  return detail::one_line(PQresultErrorMessage(r)) + (state ? " (SQLSTATE " + sqlstate_ + ")" : "");
}

namespace detail {

// What came on `conn` (read already by libpq) of NOTIFY's payloads.
std::vector<std::string> take_notifications(pg_conn* conn) {
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(conn)) {
    out.emplace_back(n->extra ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

}  // namespace detail

caf::expected<std::vector<std::string>> connection::notifications(std::chrono::milliseconds timeout, int wake_fd) {
  if (!usable()) return fail("the connection is closed");
  // Some may have come with the last statement's answer.
  if (auto early = detail::take_notifications(conn_); !early.empty()) return early;
  const auto deadline = detail::clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - detail::clock::now()).count();
    if (left <= 0) return std::vector<std::string>{};
    pollfd p[2] = {{PQsocket(conn_), POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const int rc = ::poll(p, wake_fd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (rc < 0 && errno != EINTR) return fail("cannot wait for notifications");
    if (rc <= 0) continue;
    if (p[0].revents != 0) {
      if (!PQconsumeInput(conn_) || PQstatus(conn_) == CONNECTION_BAD) return fail("the connection broke");
      if (auto got = detail::take_notifications(conn_); !got.empty()) return got;
    }
    if (wake_fd >= 0 && p[1].revents != 0) return std::vector<std::string>{};
  }
}

caf::expected<result> connection::run_one(query q, std::chrono::milliseconds timeout) {
  std::vector<query> one;
  one.push_back(std::move(q));
  auto results = run(one, timeout);
  if (!results) return std::move(results.error());
  if (results->empty()) return result{};  // an empty query: no rows, no command
  return std::move(results->front());
}

}  // namespace interlock::postgres
