#include "postgres_bench.hpp"

#include <cstdlib>
#include <stdexcept>

#include <libpq-fe.h>

#include <interlock/runtime/ulid.hpp>

#include "bench_domain.hpp"

namespace bench::pg {

// -- what the runtime asked ------------------------------------------------------

void journal_log::appended(std::size_t events, double seconds) {
  std::lock_guard<std::mutex> lock{mutex_};
  batches_.push_back(events);
  append_seconds_ += seconds;
}

double journal_log::append_seconds() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return append_seconds_;
}

void journal_log::read(page p) {
  std::lock_guard<std::mutex> lock{mutex_};
  pages_.push_back(p);
}

void journal_log::clear() {
  std::lock_guard<std::mutex> lock{mutex_};
  batches_.clear();
  append_seconds_ = 0;
  pages_.clear();
}

std::vector<std::size_t> journal_log::batches() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return batches_;
}

std::vector<journal_log::page> journal_log::pages() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return pages_;
}

namespace {

using namespace interlock;

// Forwards every call; notes the size of appends and log reads.
class recording_journal final : public journal {
 public:
  recording_journal(std::unique_ptr<journal> inner, std::shared_ptr<journal_log> log)
      : inner_(std::move(inner)), log_(std::move(log)) {}

  std::vector<caf::expected<append_result>> append(const std::vector<append_request>& batch) override {
    std::size_t events = 0;
    for (const auto& req : batch) events += req.events.size();
    const auto t0 = clock::now();
    auto results = inner_->append(batch);
    if (events > 0) log_->appended(events, seconds_since(t0));
    return results;
  }
  caf::expected<std::vector<stored_event>> read_stream(const std::string& t, const std::string& id,
                                                       std::uint64_t from, std::size_t max) override {
    return inner_->read_stream(t, id, from, max);
  }
  caf::expected<std::vector<stored_event>> read_all(std::uint64_t from, std::size_t max) override {
    auto events = inner_->read_all(from, max);
    if (events) log_->read({from, max, events->size()});
    return events;
  }
  caf::expected<std::size_t> scan_stream(const std::string& t, const std::string& id, std::uint64_t from,
                                         std::size_t max, const event_visitor& visit, scan_fields f) override {
    return inner_->scan_stream(t, id, from, max, visit, f);
  }
  caf::expected<std::size_t> scan_all(std::uint64_t from, std::size_t max, const event_visitor& visit,
                                      scan_fields f) override {
    auto n = inner_->scan_all(from, max, visit, f);
    if (n) log_->read({from, max, *n});
    return n;
  }
  caf::expected<std::size_t> scan_filtered(std::uint64_t from, std::size_t max, const log_filter& filter,
                                           const event_visitor& visit, scan_fields f) override {
    return inner_->scan_filtered(from, max, filter, visit, f);
  }
  caf::expected<std::uint64_t> last_position() override { return inner_->last_position(); }
  caf::expected<std::optional<snapshot_record>> load_snapshot(const std::string& t, const std::string& id,
                                                              std::uint64_t max_version,
                                                              std::int64_t max_recorded_at_us) override {
    return inner_->load_snapshot(t, id, max_version, max_recorded_at_us);
  }
  caf::expected<std::optional<command_record>> find_command(const std::string& command_id) override {
    return inner_->find_command(command_id);
  }
  caf::expected<std::uint64_t> stream_version(const std::string& t, const std::string& id) override {
    return inner_->stream_version(t, id);
  }
  caf::expected<bool> maintain() override { return inner_->maintain(); }

 private:
  std::unique_ptr<journal> inner_;
  std::shared_ptr<journal_log> log_;
};

// -- plain libpq ------------------------------------------------------------------

class raw_connection {
 public:
  explicit raw_connection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) fail("connect");
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~raw_connection() { PQfinish(conn_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  PGconn* get() const { return conn_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error{"raw libpq: " + what + ": " + PQerrorMessage(conn_)};
  }
  void exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(r);
    PQclear(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(sql);
  }
  void prepare(const char* name, const std::string& sql) {
    PGresult* r = PQprepare(conn_, name, sql.c_str(), 0, nullptr);
    const auto status = PQresultStatus(r);
    PQclear(r);
    if (status != PGRES_COMMAND_OK) fail("prepare " + sql);
  }

 private:
  PGconn* conn_;
};

std::string quoted(const std::string& schema) { return "\"" + schema + "\""; }

// A text-form array literal, as the journal sends its rows.
class text_array {
 public:
  void add(std::string_view element) {
    text_ += text_.size() > 1 ? ",\"" : "\"";
    for (char c : element) {
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
    }
    text_ += '"';
  }
  void add(std::int64_t element) {
    if (text_.size() > 1) text_ += ',';
    text_ += std::to_string(element);
  }
  std::string str() const { return text_ + "}"; }

 private:
  std::string text_ = "{";
};

struct bank_row {
  std::size_t account;
  std::int64_t version;
};

// One transaction, one round trip: BEGIN, the prepared insert, COMMIT, sync.
void insert_rows(raw_connection& db, const std::vector<std::string>& ids, const std::vector<bank_row>& rows,
                 std::size_t first, std::size_t last, std::int64_t base) {
  text_array id, version, type, payload;
  for (std::size_t i = first; i < last; ++i) {
    const auto& r = rows[i];
    id.add(ids[r.account]);
    version.add(r.version);
    type.add(r.version == 1 ? "Opened" : "Deposited");
    payload.add(r.version == 1 ? opened_payload(r.account)
                               : deposited_payload(r.account, static_cast<std::size_t>(r.version - 2)));
  }
  const std::string values[] = {std::to_string(base), id.str(), version.str(), type.str(), payload.str(),
                                std::to_string(now_us())};
  const char* params[6];
  for (int i = 0; i < 6; ++i) params[i] = values[i].c_str();
  auto* c = db.get();
  if (!PQsendQueryParams(c, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) ||
      !PQsendQueryPrepared(c, "insert_rows", 6, params, nullptr, nullptr, 0) ||
      !PQsendQueryParams(c, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) || !PQpipelineSync(c))
    db.fail("send a batch");
  for (int statement = 0; statement < 3; ++statement) {
    PGresult* r = PQgetResult(c);
    const auto status = PQresultStatus(r);
    const std::string message = r ? PQresultErrorMessage(r) : "no result";
    PQclear(r);
    if (status != PGRES_COMMAND_OK) throw std::runtime_error{"raw libpq: a batch failed: " + message};
    if (PQgetResult(c) != nullptr) db.fail("a batch's statement gave two results");
  }
  PGresult* sync = PQgetResult(c);
  const bool synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!synced) db.fail("a batch lost its sync");
}

}  // namespace

interlock::journal_factory recording(interlock::journal_factory inner, std::shared_ptr<journal_log> log) {
  return [inner = std::move(inner), log = std::move(log)]() -> caf::expected<std::unique_ptr<journal>> {
    auto j = inner();
    if (!j) return std::move(j.error());
    return std::unique_ptr<journal>{new recording_journal(std::move(*j), log)};
  };
}

std::string schema_for(const options& opts, const std::string& what) {
  return "interlock_bench_" + opts.postgres_run + "_" + what;
}

std::string drop_schema(const std::string& url, const std::string& schema) {
  try {
    raw_connection db{url};
    db.exec("DROP SCHEMA IF EXISTS " + quoted(schema) + " CASCADE");
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::string drop_run_schemas(const options& opts) {
  try {
    raw_connection db{opts.postgres_url};
    const auto prefix = schema_for(opts, "");
    const char* values[] = {prefix.c_str()};
    PGresult* r = PQexecParams(db.get(), "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", 1,
                               nullptr, values, nullptr, nullptr, 0);
    std::vector<std::string> left;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r); ++i) left.emplace_back(PQgetvalue(r, i, 0));
    PQclear(r);
    for (const auto& schema : left) db.exec("DROP SCHEMA IF EXISTS " + quoted(schema) + " CASCADE");
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::string check_server(const std::string& url) {
  try {
    raw_connection db{url};
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::string describe_server(const std::string& url) {
  try {
    raw_connection db{url};
    std::string out = "PostgreSQL " + std::to_string(PQserverVersion(db.get()) / 10000);
    for (const char* setting : {"fsync", "synchronous_commit", "full_page_writes"}) {
      PGresult* r = PQexec(db.get(), ("SHOW " + std::string{setting}).c_str());
      out += std::string{", "} + setting + "=" + (PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?");
      PQclear(r);
    }
    return out;
  } catch (const std::exception& e) {
    return e.what();
  }
}

raw_outcome raw_bank_inserts(const std::string& url, const std::string& schema, std::size_t accounts,
                             const std::vector<std::size_t>& batches) {
  raw_connection db{url};
  const auto s = quoted(schema);
  db.exec("CREATE SCHEMA " + s);
  db.exec("CREATE TABLE " + s +
          ".events (global_position bigint PRIMARY KEY, stream_id text NOT NULL, version bigint NOT NULL,"
          " type text NOT NULL, payload text NOT NULL, recorded_at bigint NOT NULL, UNIQUE (stream_id, version))");
  db.prepare("insert_rows", "INSERT INTO " + s +
                                ".events SELECT $1::bigint + e.n, e.i, e.v, e.t, e.p, $6::bigint FROM unnest($2::text[],"
                                " $3::bigint[], $4::text[], $5::text[]) WITH ORDINALITY AS e(i, v, t, p, n)");
  if (PQsetnonblocking(db.get(), 0) != 0 || PQenterPipelineMode(db.get()) != 1) db.fail("enter pipeline mode");
  std::vector<std::string> ids;
  for (std::size_t a = 0; a < accounts; ++a) ids.push_back(interlock::new_id());
  std::size_t deposits = 0;
  for (auto b : batches) deposits += b;
  // The opens (not timed, as in the bank), then one deposit per account per round.
  std::vector<bank_row> rows;
  rows.reserve(accounts + deposits);
  for (std::size_t a = 0; a < accounts; ++a) rows.push_back({a, 1});
  for (std::size_t i = 0; i < deposits; ++i)
    rows.push_back({i % accounts, static_cast<std::int64_t>(2 + i / accounts)});
  std::int64_t position = 0;
  for (std::size_t first = 0; first < accounts; first += 1024) {
    const auto last = std::min(accounts, first + 1024);
    insert_rows(db, ids, rows, first, last, position);
    position += static_cast<std::int64_t>(last - first);
  }
  const auto t0 = clock::now();
  std::size_t next = accounts;
  for (auto b : batches) {
    insert_rows(db, ids, rows, next, next + b, position);
    next += b;
    position += static_cast<std::int64_t>(b);
  }
  return {seconds_since(t0), deposits};
}

raw_outcome raw_log_reads(const std::string& url, const std::string& schema,
                          const std::vector<journal_log::page>& pages) {
  raw_connection db{url};
  // The journal's own page query (statements.cpp's read_all): keys where the
  // names would be; the runtime adds looking those up.
  db.prepare("read_log", "SELECT position, stream_key, version, type_key, schema_version, payload, recorded_at_us,"
                         " command_id, correlation_id, causation_id FROM " + quoted(schema) +
                         ".event_rows WHERE position >= $1::bigint ORDER BY position LIMIT $2::bigint");
  std::uint64_t rows = 0, checksum = 0;
  const auto t0 = clock::now();
  for (const auto& p : pages) {
    const auto from = std::to_string(p.from), limit = std::to_string(p.max_count);
    const char* values[] = {from.c_str(), limit.c_str()};
    PGresult* r = PQexecPrepared(db.get(), "read_log", 2, values, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      db.fail("read the log from position " + from);
    }
    const int n = PQntuples(r);
    for (int row = 0; row < n; ++row) {
      for (int col : {0, 1, 2, 3, 4, 6}) checksum += std::strtoull(PQgetvalue(r, row, col), nullptr, 10);
      for (int col : {7, 8, 9}) checksum += static_cast<unsigned char>(PQgetvalue(r, row, col)[0]);
      const char* payload = PQgetvalue(r, row, 5);
      for (int i = 0, len = PQgetlength(r, row, 5); i < len; ++i) checksum += static_cast<unsigned char>(payload[i]);
    }
    rows += static_cast<std::uint64_t>(n);
    PQclear(r);
    if (static_cast<std::size_t>(n) != p.got)
      throw std::runtime_error{"raw libpq: the page from position " + from + " held " + std::to_string(n) +
                               " events, the runtime's " + std::to_string(p.got)};
  }
  const auto seconds = seconds_since(t0);
  static volatile std::uint64_t sink;
  sink = sink + checksum;  // keeps the loop honest
  return {seconds, rows};
}

}  // namespace bench::pg
