// Opening a PostgreSQL journal, and its connection kept usable: appends,
// reads and the SQL live in persistence/postgres/ (see journal_impl.hpp).
#include <interlock/persistence/postgres_journal.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/postgres/journal_impl.hpp>
#include <interlock/persistence/postgres/schema.hpp>

namespace interlock {
namespace postgres {

postgres_journal::postgres_journal(postgres_options options, connection db)
    : options_(std::move(options)), db_(std::move(db)), q_(make_statements(options_.schema)) {}

caf::expected<std::unique_ptr<journal>> postgres_journal::open(const postgres_options& options) {
  if (options.url.empty()) return make_error(errc::invalid_argument, "postgres_options.url is empty");
  if (!valid_schema_name(options.schema))
    return make_error(errc::invalid_argument, "postgres_options.schema '" + options.schema +
                                                  "' is not a lowercase SQL identifier (a-z, 0-9, _; at most 63 bytes)");
  if (options.timeout.count() <= 0) return make_error(errc::invalid_argument, "postgres_options.timeout must be positive");
  auto db = connection::open(options.url, options.timeout);
  if (!db) return std::move(db.error());
  if (auto err = create_or_check_schema(*db, options.schema, options.timeout)) return err;
  return std::unique_ptr<journal>{new postgres_journal(options, std::move(*db))};
}

// Before each transaction or read: a connection that broke or timed out is
// replaced, so the journal works again once the server is back.
caf::error postgres_journal::ready() {
  if (db_.usable()) return {};
  return db_.reopen(options_.timeout);
}

}  // namespace postgres

caf::expected<std::unique_ptr<journal>> open_postgres_journal(const postgres_options& options) {
  return postgres::postgres_journal::open(options);
}

journal_factory postgres_journal_factory(postgres_options options) {
  return [options = std::move(options)] { return open_postgres_journal(options); };
}

}  // namespace interlock
