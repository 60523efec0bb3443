#include <interlock/persistence/postgres_read_store.hpp>

#include <mutex>

#include <interlock/core/detail/utf8.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/core/log.hpp>
#include <interlock/persistence/journal_detail.hpp>  // now_us
#include <interlock/persistence/postgres/read_db_postgres.hpp>
#include <interlock/persistence/postgres/read_schema.hpp>
#include <interlock/persistence/postgres/read_swap.hpp>
#include <interlock/persistence/postgres/schema.hpp>  // valid_schema_name
#include <interlock/persistence/read_db.hpp>
#include <interlock/persistence/read_store_checks.hpp>

namespace interlock {
namespace {

using postgres::params;
using postgres::query;

// The factory's lock: taken by its first store, let go with its last.
struct shared_lock {
  std::mutex mutex;
  std::weak_ptr<postgres::read_schema_lock> held;
};

// Text PostgreSQL stores: no NUL, valid UTF-8 (bytes replaced by '?' otherwise).
std::string storable(std::string text) {
  for (auto& c : text)
    if (c == '\0') c = '?';
  for (auto bad = detail::utf8_error_at(text); bad != std::string::npos; bad = detail::utf8_error_at(text))
    text[bad] = '?';
  return text;
}

class postgres_read_store final : public read_store {
 public:
  /// With a `read_schema`, a rebuild's shadow (open_shadow()): options.schema
  /// is its shadow schema, dropped with the object; `lock` is the read
  /// schema's, checked by its transactions as by the read store's.
  postgres_read_store(postgres_read_options options, std::shared_ptr<postgres::read_schema_lock> lock,
                      postgres::connection db, std::string read_schema = {})
      : options_(std::move(options)), lock_(std::move(lock)), db_(std::move(db)),
        read_schema_(read_schema.empty() ? options_.schema : std::move(read_schema)),
        shadow_(read_schema_ != options_.schema) {
    session_.db = &db_;
    session_.timeout = options_.timeout;
    session_.reconnect = [this] { return ensure_connection(); };
  }

  ~postgres_read_store() override {
    sql_.reset();  // its statements before the connection
    if (shadow_) drop_shadow();
  }

  /// `drop_leftovers`: the shadow schemas a crash left are dropped (only
  /// when the lock was just taken: no store of this process has one going).
  caf::error open(bool drop_leftovers = false) {
    if (auto err = postgres::create_or_check_read_schema(db_, options_.schema, options_.timeout)) return err;
    if (auto err = set_search_path()) return err;
    if (drop_leftovers) drop_leftover_shadows();
    return {};
  }

  caf::expected<std::optional<projection_checkpoint>> load_checkpoint(std::string_view name) override {
    auto r = run("read a checkpoint from", "SELECT position, state_version, state, saved_at_us FROM " +
                                               table("projection_checkpoints") + " WHERE projection = $1",
                 params{}.text(name));
    if (!r) return std::move(r.error());
    if (r->rows() == 0) return std::optional<projection_checkpoint>{};
    return std::optional<projection_checkpoint>{checkpoint_at(*r, 0, 0)};
  }

  caf::error save_checkpoint(std::string_view name, const projection_checkpoint& cp) override {
    if (auto err = detail::check_checkpoint(name, cp)) return err;
    if (cp.state.find('\0') != std::string::npos)
      return make_error(errc::invalid_argument, "read store: the state of projection " + std::string{name} +
                                                    " holds a NUL byte, which PostgreSQL text cannot hold");
    params p;
    p.text(name).int64(static_cast<std::int64_t>(cp.position)).int64(cp.state_version);
    if (cp.state.empty()) p.null();
    else p.text(cp.state);
    p.int64(detail::now_us());
    return exec("save a checkpoint in",
               "INSERT INTO " + table("projection_checkpoints") +
                   " (projection, position, state_version, state, saved_at_us) VALUES ($1, $2, $3, $4, $5)"
                   " ON CONFLICT (projection) DO UPDATE SET position = excluded.position, state_version ="
                   " excluded.state_version, state = excluded.state, saved_at_us = excluded.saved_at_us",
               std::move(p));
  }

  caf::error remove_checkpoint(std::string_view name) override {
    return exec("remove a checkpoint from", "DELETE FROM " + table("projection_checkpoints") + " WHERE projection = $1",
               params{}.text(name));
  }

  caf::expected<std::vector<std::pair<std::string, projection_checkpoint>>> checkpoints() override {
    auto r = run("list the checkpoints of", "SELECT position, state_version, state, saved_at_us, projection FROM " +
                                                table("projection_checkpoints") + " ORDER BY projection COLLATE \"C\"",
                 {});
    if (!r) return std::move(r.error());
    std::vector<std::pair<std::string, projection_checkpoint>> out;
    for (int row = 0; row < r->rows(); ++row) out.emplace_back(std::string{r->text(row, 4)}, checkpoint_at(*r, row, 0));
    return out;
  }

  caf::error park(std::string_view name, const parked_event& e) override {
    if (auto err = detail::check_projection_name(name)) return err;
    params p;
    p.text(name).int64(static_cast<std::int64_t>(e.position)).text(storable(e.stream));
    p.int64(static_cast<std::int64_t>(e.version)).text(storable(e.event_type)).text(storable(e.error));
    p.int64(e.attempts).int64(detail::now_us());
    return exec("park an event in",
               "INSERT INTO " + table("parked_events") +
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (projection, position) DO UPDATE SET"
                   " stream = excluded.stream, version = excluded.version, event_type = excluded.event_type,"
                   " error = excluded.error, attempts = excluded.attempts, parked_at_us = excluded.parked_at_us",
               std::move(p));
  }

  caf::expected<std::vector<parked_event>> parked(std::string_view name) override {
    auto r = run("list the parked events of",
                 "SELECT position, stream, version, event_type, error, attempts, parked_at_us FROM " +
                     table("parked_events") + " WHERE projection = $1 ORDER BY position",
                 params{}.text(name));
    if (!r) return std::move(r.error());
    std::vector<parked_event> out;
    for (int row = 0; row < r->rows(); ++row) {
      parked_event e;
      e.position = static_cast<std::uint64_t>(r->int64(row, 0));
      e.stream = r->text(row, 1);
      e.version = static_cast<std::uint64_t>(r->int64(row, 2));
      e.event_type = r->text(row, 3);
      e.error = r->text(row, 4);
      e.attempts = static_cast<std::uint32_t>(r->int64(row, 5));
      e.parked_at_us = r->int64(row, 6);
      out.push_back(std::move(e));
    }
    return out;
  }

  caf::error unpark(std::string_view name, std::uint64_t position) override {
    return exec("unpark an event in",
               "DELETE FROM " + table("parked_events") + " WHERE projection = $1 AND position = $2",
               params{}.text(name).int64(static_cast<std::int64_t>(position)));
  }

  read_db& sql() override {
    if (!sql_) sql_ = std::make_unique<read_db>(postgres::make_read_db_backend(session_));
    return *sql_;
  }

  // The lock is checked in the round trip that begins the transaction: a
  // lock lost with its session (another process may hold it now) is taken
  // again before anything is written, or the transaction is refused.
  caf::error begin() override {
    for (int attempt = 0;; ++attempt) {
      if (auto err = ensure_connection()) return err;
      auto r = db_.run({query{"BEGIN"}, lock_->held()}, options_.timeout);
      if (!r) {
        rollback();
        return storage_error("begin a transaction in", r.error());
      }
      in_transaction_ = true;
      if ((*r)[1].text(0, 0) == "t") return {};
      rollback();
      if (attempt > 0)
        return make_error(errc::storage, "read schema '" + options_.schema + "': its lock is not held after taking it");
      if (auto err = lock_->retake()) return err;
    }
  }

  // PostgreSQL answers COMMIT of a transaction a refused statement ended by
  // rolling it back, without an error: that is a failure here. Never sent on
  // a new connection, where it would commit nothing and say it had.
  caf::error commit() override {
    if (db_.transaction_failed()) {
      rollback();
      return make_error(errc::storage, "cannot commit to read schema '" + options_.schema + "' on " + db_.server() +
                                           ": a statement of the transaction was refused; rolled back");
    }
    auto r = db_.run_one({"COMMIT"}, options_.timeout);
    in_transaction_ = false;
    if (r) return {};
    rollback();
    return storage_error("commit to", r.error());
  }

  void rollback() override {
    in_transaction_ = false;
    if (db_.in_transaction()) db_.run_one({"ROLLBACK"}, options_.timeout);
  }

  // The shadow schema is made on this store's connection, after the lock
  // was checked: a schema of that name belongs to this process's rebuilds.
  caf::expected<std::unique_ptr<read_store>> open_shadow(std::string_view name) override {
    if (auto err = detail::check_projection_name(name)) return err;
    if (shadow_) return make_error(errc::invalid_argument, "projection " + std::string{name} + ": a rebuild's store "
                                                           "cannot hold another rebuild");
    auto options = options_;
    options.schema = postgres::shadow_schema_for(options_.schema, name);
    const auto failed = [&](const caf::error& err) {
      return make_error(errc::storage, "projection " + std::string{name} + ": cannot open a rebuild (schema '" +
                                           options.schema + "') beside read schema '" + options_.schema + "': " +
                                           message_of(err));
    };
    if (auto err = begin()) return failed(err);
    auto err = postgres::create_shadow_schema(db_, options_.schema, options.schema, name, options_.timeout);
    if (!err) err = commit();
    if (err) {
      rollback();
      return failed(err);
    }
    auto db = postgres::connection::open(options.url, options.timeout);
    if (!db) return failed(db.error());  // the schema stays until the next rebuild or start drops it
    auto shadow = std::make_unique<postgres_read_store>(options, lock_, std::move(*db), options_.schema);
    if (auto err = shadow->open()) return failed(err);  // dropped with `shadow`
    return std::unique_ptr<read_store>{std::move(shadow)};
  }

  caf::error swap_in(std::string_view name, read_store& shadow, std::uint64_t position) override {
    auto* other = dynamic_cast<postgres_read_store*>(&shadow);
    if (other == nullptr || !other->shadow_ || other->read_schema_ != options_.schema)
      return make_error(errc::invalid_argument, "projection " + std::string{name} + ": swap_in() takes a store from "
                                                "this store's open_shadow()");
    bool committing = false;
    if (auto err = swap_in_transaction(name, other->options_.schema, position, committing))
      return make_error(errc::storage, "projection " + std::string{name} + ": cannot swap in its rebuilt tables (schema '" +
                                           other->options_.schema + "') in read schema '" + options_.schema + "'" +
                                           (committing ? " (its COMMIT failed): " : "; nothing changed: ") +
                                           message_of(err));
    forget_prepared_statements();
    return {};
  }

 private:
  // The shadow's objects in place of the ones in use, the checkpoint at
  // `position`, the parked events the rebuild applied forgotten: one
  // transaction (PostgreSQL's DDL is transactional).
  // `committing`: the failure was the COMMIT's, whose outcome a broken
  // connection leaves unknown.
  caf::error swap_in_transaction(std::string_view name, const std::string& shadow, std::uint64_t position,
                                 bool& committing) {
    if (auto err = begin()) return err;
    auto err = postgres::move_shadow_objects(db_, options_.schema, shadow, options_.timeout);
    projection_checkpoint cp;
    cp.position = position;
    if (!err) err = save_checkpoint(name, cp);
    if (!err)
      err = exec("forget parked events in", "DELETE FROM " + table("parked_events") +
                                                " WHERE projection = $1 AND position <= $2",
                 params{}.text(name).int64(static_cast<std::int64_t>(position)));
    if (err) {
      rollback();
      return err;
    }
    committing = !db_.transaction_failed();  // commit() refuses a failed one without sending COMMIT
    return commit();
  }

  // read_db's statements were planned on the tables the swap dropped: a
  // plan whose columns changed would fail ("cached plan must not change
  // result type"), so they are prepared again.
  void forget_prepared_statements() {
    if (db_.run_one({"DEALLOCATE ALL"}, options_.timeout)) ++session_.generation;
  }

  // Its transaction checks the lock, as every one does: a schema of this
  // name that another process (which took the lock since) made is its own.
  void drop_shadow() {
    auto err = begin();
    if (!err) err = postgres::drop_shadow_schema(db_, read_schema_, options_.schema, options_.timeout);
    if (!err) err = commit();
    if (!err) return;
    rollback();
    log(log_level::warning, "read schema '" + read_schema_ + "': cannot drop the schema of a rebuild, '" +
                                options_.schema + "' (the next start drops it): " + message_of(err));
  }

  void drop_leftover_shadows() {
    auto left = postgres::shadow_schemas_of(db_, options_.schema, options_.timeout);
    if (!left) return log(log_level::warning, "read schema '" + options_.schema + "': cannot look for schemas of "
                                              "rebuilds that did not finish: " + message_of(left.error()));
    for (auto& shadow : *left) {
      auto err = begin();
      if (!err) err = postgres::drop_shadow_schema(db_, options_.schema, shadow, options_.timeout);
      if (!err) err = commit();
      if (err) rollback();
      log(log_level::warning, "read schema '" + options_.schema + "' on " + db_.server() +
                                  (err ? ": cannot drop schema '" + shadow + "', left by a rebuild that did not "
                                         "finish: " + message_of(err)
                                       : ": dropped schema '" + shadow + "', left by a rebuild that did not finish"));
    }
  }

  caf::error set_search_path() {
    auto r = db_.run_one({"SET search_path TO \"" + options_.schema + "\""}, options_.timeout);
    return r ? caf::error{} : storage_error("set the search_path of", r.error());
  }

  // A connection that broke is replaced here, outside a transaction only
  // (inside one, what it had done is gone: the transaction fails).
  caf::error ensure_connection() {
    if (db_.usable()) return {};
    if (in_transaction_)
      return make_error(errc::storage, "read schema '" + options_.schema + "' on " + db_.server() +
                                           ": the connection broke inside a transaction");
    if (auto err = db_.reopen(options_.timeout)) return err;
    ++session_.generation;  // the statements read_db prepared are gone with it
    return set_search_path();
  }

  caf::error storage_error(const char* what, const caf::error& err) const {
    return make_error(errc::storage, std::string{"cannot "} + what + " read schema '" + options_.schema + "': " +
                                         message_of(err));
  }

  std::string table(const char* name) const { return "\"" + options_.schema + "\"." + name; }

  static projection_checkpoint checkpoint_at(const postgres::result& r, int row, int col) {
    projection_checkpoint cp;
    cp.position = static_cast<std::uint64_t>(r.int64(row, col));
    cp.state_version = static_cast<std::uint32_t>(r.int64(row, col + 1));
    cp.state = r.text(row, col + 2);
    cp.saved_at_us = r.int64(row, col + 3);
    return cp;
  }

  caf::expected<postgres::result> run(const char* what, std::string sql, params p) {
    if (auto err = ensure_connection()) return storage_error(what, err);
    auto r = db_.run_one(query{std::move(sql), std::move(p)}, options_.timeout);
    if (r) return r;
    return storage_error(what, r.error());
  }

  // run() of a statement whose rows do not matter.
  caf::error exec(const char* what, std::string sql, params p = {}) {
    auto r = run(what, std::move(sql), std::move(p));
    return r ? caf::error{} : std::move(r.error());
  }

  postgres_read_options options_;
  std::shared_ptr<postgres::read_schema_lock> lock_;
  postgres::connection db_;
  std::string read_schema_;  // options_.schema, or for a shadow the read schema it is a rebuild of
  bool shadow_ = false;
  postgres::read_db_session session_;
  bool in_transaction_ = false;  // between begin() and commit() or rollback()
  std::unique_ptr<read_db> sql_;
};

caf::error check_options(const postgres_read_options& o) {
  if (o.url.empty()) return make_error(errc::invalid_argument, "PostgreSQL read store: the URL is empty");
  if (!postgres::valid_schema_name(o.schema))
    return make_error(errc::invalid_argument,
                      "PostgreSQL read store: read schema '" + o.schema + "' is not a lowercase SQL identifier "
                      "(letters, digits, _; not starting with a digit; at most 63 bytes)");
  if (o.timeout.count() <= 0) return make_error(errc::invalid_argument, "PostgreSQL read store: the timeout must be > 0");
  return {};
}

// The factory's lock, and whether this call took it (no other store of the
// factory is open).
caf::expected<std::pair<std::shared_ptr<postgres::read_schema_lock>, bool>> lock_for(shared_lock& shared,
                                                                                     const postgres_read_options& o) {
  std::lock_guard guard{shared.mutex};
  if (auto held = shared.held.lock()) return std::pair{held, false};
  auto taken = postgres::read_schema_lock::take(o.url, o.schema, o.timeout);
  if (!taken) return std::move(taken.error());
  shared.held = *taken;
  return std::pair{std::move(*taken), true};
}

}  // namespace

std::string postgres_read_schema_for(const std::string& journal_schema) { return journal_schema + "_read"; }

read_store_factory postgres_read_store_factory(postgres_read_options options) {
  auto shared = std::make_shared<shared_lock>();
  return [options = std::move(options), shared]() -> caf::expected<std::unique_ptr<read_store>> {
    if (auto err = check_options(options)) return err;
    auto lock = lock_for(*shared, options);
    if (!lock) return std::move(lock.error());
    auto db = postgres::connection::open(options.url, options.timeout);
    if (!db) return std::move(db.error());
    auto store = std::make_unique<postgres_read_store>(options, std::move(lock->first), std::move(*db));
    if (auto err = store->open(lock->second)) return err;
    return std::unique_ptr<read_store>{std::move(store)};
  };
}

}  // namespace interlock
