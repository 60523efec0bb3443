#include <interlock/persistence/sqlite_read_store.hpp>

#include <sqlite3.h>

#include <interlock/core/detail/utf8.hpp>
#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal_detail.hpp>  // now_us
#include <interlock/persistence/read_store_checks.hpp>
#include <interlock/persistence/read_store_shadow_files.hpp>
#include <interlock/persistence/read_store_swap.hpp>
#include <interlock/persistence/read_db.hpp>
#include <interlock/persistence/sqlite_db.hpp>

namespace interlock {
namespace {

constexpr std::int64_t current_format = 1;

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS read_store_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT OR IGNORE INTO read_store_meta (key, value) VALUES ('format', 1);
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  projection    TEXT PRIMARY KEY,
  position      INTEGER NOT NULL CHECK (position >= 0),
  state_version INTEGER NOT NULL,
  state         TEXT,             -- the read model as JSON; NULL: the position alone
  saved_at_us   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS parked_events (
  projection   TEXT NOT NULL,
  position     INTEGER NOT NULL,
  stream       TEXT NOT NULL,
  version      INTEGER NOT NULL,
  event_type   TEXT NOT NULL,
  error        TEXT NOT NULL,
  attempts     INTEGER NOT NULL,
  parked_at_us INTEGER NOT NULL,
  PRIMARY KEY (projection, position)
);
)sql";

class sqlite_read_store final : public read_store {
 public:
  /// A `scratch` store is a rebuild's shadow: nothing in it needs to
  /// survive a crash (synchronous=OFF), and destroying it deletes it.
  explicit sqlite_read_store(std::string path, bool scratch = false) : path_(std::move(path)), scratch_(scratch) {}

  ~sqlite_read_store() override {
    if (!scratch_) return;
    close();
    detail::remove_database_files(path_);
  }

  caf::error open() {
    if (!scratch_) detail::remove_leftover_shadows(path_);
    if (db_.open(path_, path_.starts_with("file:")) != SQLITE_OK) return fail("cannot open");
    const char* setup = scratch_ ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA busy_timeout=5000;"
                                 : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;";
    if (db_.exec(setup) != SQLITE_OK) return fail("cannot set up");
    if (auto err = check_what_the_file_holds()) return err;
    if (db_.exec(schema_sql) != SQLITE_OK) return fail("cannot create the tables of");
    if (auto err = check_format()) return err;
    return prepare_all();
  }

  caf::expected<std::optional<projection_checkpoint>> load_checkpoint(std::string_view name) override {
    sqlite::reset_on_exit done{load_};
    load_.bind(1, name);
    auto rc = load_.step();
    if (rc == SQLITE_DONE) return std::optional<projection_checkpoint>{};
    if (rc != SQLITE_ROW) return fail("cannot read a checkpoint from");
    projection_checkpoint cp;
    cp.position = static_cast<std::uint64_t>(load_.column_int64(0));
    cp.state_version = static_cast<std::uint32_t>(load_.column_int64(1));
    cp.state = load_.column_text(2);
    cp.saved_at_us = load_.column_int64(3);
    return std::optional<projection_checkpoint>{std::move(cp)};
  }

  caf::error save_checkpoint(std::string_view name, const projection_checkpoint& cp) override {
    if (auto err = detail::check_checkpoint(name, cp)) return err;
    sqlite::reset_on_exit done{save_};
    save_.bind(1, name);
    save_.bind(2, static_cast<std::int64_t>(cp.position));
    save_.bind(3, static_cast<std::int64_t>(cp.state_version));
    save_.bind_or_null(4, cp.state);
    save_.bind(5, detail::now_us());
    if (save_.step() != SQLITE_DONE) return fail("cannot save a checkpoint in");
    return {};
  }

  caf::error remove_checkpoint(std::string_view name) override {
    sqlite::reset_on_exit done{remove_};
    remove_.bind(1, name);
    if (remove_.step() != SQLITE_DONE) return fail("cannot remove a checkpoint from");
    return {};
  }

  caf::expected<std::vector<std::pair<std::string, projection_checkpoint>>> checkpoints() override {
    sqlite::reset_on_exit done{list_};
    std::vector<std::pair<std::string, projection_checkpoint>> out;
    int rc;
    while ((rc = list_.step()) == SQLITE_ROW) {
      projection_checkpoint cp;
      cp.position = static_cast<std::uint64_t>(list_.column_int64(1));
      cp.state_version = static_cast<std::uint32_t>(list_.column_int64(2));
      cp.state = list_.column_text(3);
      cp.saved_at_us = list_.column_int64(4);
      out.emplace_back(list_.column_text(0), std::move(cp));
    }
    if (rc != SQLITE_DONE) return fail("cannot list the checkpoints of");
    return out;
  }

  caf::error park(std::string_view name, const parked_event& e) override {
    if (auto err = detail::check_projection_name(name)) return err;
    sqlite::reset_on_exit done{park_};
    park_.bind(1, name);
    park_.bind(2, static_cast<std::int64_t>(e.position));
    park_.bind(3, e.stream);
    park_.bind(4, static_cast<std::int64_t>(e.version));
    park_.bind(5, e.event_type);
    auto error = e.error;  // an exception's text may hold any bytes: stored as valid UTF-8
    for (auto bad = detail::utf8_error_at(error); bad != std::string::npos; bad = detail::utf8_error_at(error))
      error[bad] = '?';
    park_.bind(6, error);
    park_.bind(7, static_cast<std::int64_t>(e.attempts));
    park_.bind(8, detail::now_us());
    if (park_.step() != SQLITE_DONE) return fail("cannot park an event in");
    return {};
  }

  caf::expected<std::vector<parked_event>> parked(std::string_view name) override {
    sqlite::reset_on_exit done{list_parked_};
    list_parked_.bind(1, name);
    std::vector<parked_event> out;
    int rc;
    while ((rc = list_parked_.step()) == SQLITE_ROW) {
      parked_event e;
      e.position = static_cast<std::uint64_t>(list_parked_.column_int64(0));
      e.stream = list_parked_.column_text(1);
      e.version = static_cast<std::uint64_t>(list_parked_.column_int64(2));
      e.event_type = list_parked_.column_text(3);
      e.error = list_parked_.column_text(4);
      e.attempts = static_cast<std::uint32_t>(list_parked_.column_int64(5));
      e.parked_at_us = list_parked_.column_int64(6);
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return fail("cannot list the parked events of");
    return out;
  }

  caf::error unpark(std::string_view name, std::uint64_t position) override {
    sqlite::reset_on_exit done{unpark_};
    unpark_.bind(1, name);
    unpark_.bind(2, static_cast<std::int64_t>(position));
    if (unpark_.step() != SQLITE_DONE) return fail("cannot unpark an event in");
    return {};
  }

  read_db& sql() override {
    if (!sql_) sql_ = std::make_unique<read_db>(db_.get());
    return *sql_;
  }

  caf::error begin() override {
    if (db_.exec("BEGIN IMMEDIATE") != SQLITE_OK) return fail("cannot begin a transaction in");
    return {};
  }

  caf::error commit() override {
    if (db_.exec("COMMIT") == SQLITE_OK) return {};
    auto err = fail("cannot commit to");
    rollback();
    return err;
  }

  void rollback() override {
    if (db_.in_transaction()) db_.exec("ROLLBACK");
  }

  caf::expected<std::unique_ptr<read_store>> open_shadow(std::string_view name) override {
    if (auto err = detail::check_projection_name(name)) return err;
    auto path = detail::shadow_path_for(path_, name);
    detail::remove_database_files(path);  // one a crash left: its rebuild cannot go on
    auto shadow = std::make_unique<sqlite_read_store>(std::move(path), true);
    if (auto err = shadow->open()) return err;
    return std::unique_ptr<read_store>{std::move(shadow)};
  }

  caf::error swap_in(std::string_view name, read_store& shadow, std::uint64_t position) override {
    auto* other = dynamic_cast<sqlite_read_store*>(&shadow);
    if (other == nullptr || !other->scratch_)
      return make_error(errc::invalid_argument, "projection " + std::string{name} + ": swap_in() takes a store "
                                                "from open_shadow()");
    if (auto err = attach(other->path_)) return err;
    auto err = swap_in_transaction(name, position);
    if (db_.exec("DETACH DATABASE interlock_shadow") != SQLITE_OK && !err) err = fail("cannot detach a rebuild from");
    return err;
  }

 private:
  caf::error attach(const std::string& path) {
    sqlite::statement attach;
    if (attach.prepare(db_.get(), "ATTACH DATABASE ? AS interlock_shadow") != SQLITE_OK)
      return fail("cannot attach a rebuild to");
    attach.bind(1, path);
    if (attach.step() != SQLITE_DONE) return fail("cannot attach the rebuild '" + path + "' to");
    return {};
  }

  // The shadow's tables in place of the ones in use, the checkpoint at
  // `position`, the parked events the rebuild applied forgotten: one transaction.
  caf::error swap_in_transaction(std::string_view name, std::uint64_t position) {
    if (auto err = begin()) return err;
    caf::error err;
    {
      read_db sql{db_.get()};  // its statements are finalized before the detach
      err = detail::copy_shadow_schema(sql, "interlock_shadow");
    }
    projection_checkpoint cp;
    cp.position = position;
    if (!err) err = save_checkpoint(name, cp);
    if (!err) err = forget_parked_through(name, position);
    if (!err) err = commit();
    if (err) rollback();
    return err;
  }

  caf::error forget_parked_through(std::string_view name, std::uint64_t position) {
    sqlite::statement forget;
    if (forget.prepare(db_.get(), "DELETE FROM parked_events WHERE projection = ? AND position <= ?") != SQLITE_OK)
      return fail("cannot prepare a statement for");
    forget.bind(1, name);
    forget.bind(2, static_cast<std::int64_t>(position));
    if (forget.step() != SQLITE_DONE) return fail("cannot forget parked events in");
    return {};
  }

  // Statements first, then the connection (a scratch store's file goes next).
  void close() {
    sql_.reset();
    for (auto* stmt : {&load_, &save_, &remove_, &list_, &park_, &list_parked_, &unpark_}) *stmt = sqlite::statement{};
    db_ = sqlite::connection{};
  }

  caf::error fail(const std::string& what) const {
    return make_error(errc::storage, what + " read store '" + path_ + "': " + db_.last_error());
  }

  caf::error refuse(const std::string& why) const {
    return make_error(errc::storage, "'" + path_ + "' is not a read store: " + why);
  }

  // A journal given where the read store goes would get tables it must not
  // have; any other database is someone else's.
  caf::error check_what_the_file_holds() {
    sqlite::statement tables;
    if (tables.prepare(db_.get(), "SELECT name FROM sqlite_schema WHERE type = 'table'") != SQLITE_OK)
      return fail("cannot read the schema of");
    bool any = false, meta = false, events = false;
    int rc;
    while ((rc = tables.step()) == SQLITE_ROW) {
      auto name = tables.column_view(0);
      any = true;
      meta = meta || name == "read_store_meta";
      events = events || name == "events";
    }
    if (rc != SQLITE_DONE) return fail("cannot read the schema of");
    if (events) return refuse("it holds an events table (is it the journal?)");
    if (any && !meta) return refuse("it holds tables but no read_store_meta");
    return {};
  }

  caf::error check_format() {
    sqlite::statement format;
    if (format.prepare(db_.get(), "SELECT value FROM read_store_meta WHERE key = 'format'") != SQLITE_OK ||
        format.step() != SQLITE_ROW)
      return fail("cannot read the format of");
    auto found = format.column_int64(0);
    if (found == current_format) return {};
    return make_error(errc::storage, "read store '" + path_ + "' has format " + std::to_string(found) +
                                         ", which this version does not read (it reads format " +
                                         std::to_string(current_format) + ")");
  }

  caf::error prepare_all() {
    const std::pair<sqlite::statement*, const char*> all[] = {
        {&load_, "SELECT position, state_version, state, saved_at_us FROM projection_checkpoints WHERE projection = ?"},
        {&save_,
         "INSERT INTO projection_checkpoints (projection, position, state_version, state, saved_at_us) "
         "VALUES (?, ?, ?, ?, ?) ON CONFLICT (projection) DO UPDATE SET position = excluded.position, "
         "state_version = excluded.state_version, state = excluded.state, saved_at_us = excluded.saved_at_us"},
        {&remove_, "DELETE FROM projection_checkpoints WHERE projection = ?"},
        {&list_, "SELECT projection, position, state_version, state, saved_at_us FROM projection_checkpoints "
                 "ORDER BY projection"},
        {&park_, "INSERT OR REPLACE INTO parked_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
        {&list_parked_, "SELECT position, stream, version, event_type, error, attempts, parked_at_us "
                        "FROM parked_events WHERE projection = ? ORDER BY position"},
        {&unpark_, "DELETE FROM parked_events WHERE projection = ? AND position = ?"},
    };
    for (auto [stmt, sql] : all)
      if (stmt->prepare(db_.get(), sql) != SQLITE_OK) return fail("cannot prepare a statement for");
    return {};
  }

  std::string path_;
  bool scratch_ = false;
  sqlite::connection db_;  // declared before the statements: they are finalized first
  sqlite::statement load_, save_, remove_, list_, park_, list_parked_, unpark_;
  std::unique_ptr<read_db> sql_;  // its statements are finalized before the connection closes
};

}  // namespace

caf::expected<std::unique_ptr<read_store>> open_sqlite_read_store(const std::string& path) {
  auto store = std::make_unique<sqlite_read_store>(path);
  if (auto err = store->open()) return err;
  return std::unique_ptr<read_store>{std::move(store)};
}

read_store_factory sqlite_read_store_factory(std::string path) {
  return [path = std::move(path)] { return open_sqlite_read_store(path); };
}

}  // namespace interlock
