#include <interlock/persistence/postgres/read_db_postgres.hpp>

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <sqlite3.h>  // the result codes sql_error::code() speaks (read_db.hpp)

#include <interlock/core/errors.hpp>
#include <interlock/persistence/postgres/placeholders.hpp>

namespace interlock::postgres {
namespace {

// SQLSTATE classes onto SQLite's primary codes (read_db.hpp, sql_error::code()).
int code_for(const std::string& sqlstate) {
  if (sqlstate.empty()) return SQLITE_IOERR;  // no answer: the connection broke or timed out
  const auto cls = sqlstate.substr(0, 2);
  if (cls == "23") return SQLITE_CONSTRAINT;
  if (cls == "22") return SQLITE_MISMATCH;
  if (cls == "40") return SQLITE_BUSY;
  if (cls == "53") return SQLITE_FULL;
  if (cls == "08" || cls == "57" || cls == "58") return SQLITE_IOERR;
  return SQLITE_ERROR;
}

class backend;

class statement final : public detail::sql_statement {
 public:
  statement(backend& owner, std::string_view sql, std::string name)
      : owner_(owner), sql_(sql), numbered_(number_placeholders(sql)), name_(std::move(name)),
        values_(static_cast<std::size_t>(numbered_.parameters)) {}

  int parameter_count() const override { return numbered_.parameters; }
  void bind_null(int i) override { values_[i - 1].reset(); }
  void bind_int(int i, std::int64_t v) override { values_[i - 1] = std::to_string(v); }
  void bind_real(int i, double v) override { values_[i - 1] = real_text(v); }
  void bind_text(int i, std::string_view v) override {
    if (v.find('\0') != std::string_view::npos)
      detail::throw_sql_error(sql_, "parameter " + std::to_string(i) + " holds a NUL byte, which PostgreSQL text "
                                    "cannot hold", 0);
    values_[i - 1] = std::string{v};
  }

  bool step() override;
  void reset() noexcept override {
    ran_ = false;
    row_ = -1;
    result_ = result{};
  }

  int column_count() const override;
  bool is_null(int col) const override { return result_.is_null(row_, col); }
  std::int64_t column_int(int col) const override;
  double column_real(int col) const override;
  std::string_view column_text(int col) const override { return result_.text(row_, col); }

 private:
  static std::string real_text(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, end);
  }
  [[noreturn]] void not_a_number(int col) const {
    detail::throw_sql_error(sql_, "column " + std::to_string(col + 1) + " holds '" +
                                      std::string{result_.text(row_, col)} + "', not a number",
                            SQLITE_MISMATCH);
  }
  void run();
  void prepare();

  backend& owner_;
  std::string sql_;
  numbered_sql numbered_;
  std::string name_;
  std::vector<std::optional<std::string>> values_;
  std::uint64_t prepared_in_ = 0;  // the session generation it was prepared in, + 1 (0: not prepared)
  bool ran_ = false;
  int row_ = -1;
  result result_;
};

class backend final : public detail::sql_connection {
 public:
  explicit backend(read_db_session& session) : session_(session) {}

  sql_dialect dialect() const override { return sql_dialect::postgresql; }
  std::unique_ptr<detail::sql_statement> prepare(std::string_view sql) override {
    return std::make_unique<statement>(*this, sql, "interlock_read_" + std::to_string(++named_));
  }
  std::int64_t changes() const override { return changes_; }
  std::int64_t last_insert_rowid() const override { return 0; }  // read_db refuses it first

  read_db_session& session() { return session_; }
  void set_changes(std::int64_t n) { changes_ = n; }

  // Runs `q`, or throws sql_error naming `sql` with the server's message.
  result run(std::string_view sql, query q) {
    auto& db = *session_.db;
    if (!db.usable() && session_.reconnect)
      if (auto err = session_.reconnect()) detail::throw_sql_error(sql, message_of(err), SQLITE_IOERR);
    auto out = db.run_one(std::move(q), session_.timeout);
    if (out) return std::move(*out);
    const auto state = db.last_sqlstate();
    detail::throw_sql_error(sql, message_of(out.error()), code_for(state), state);
  }

 private:
  read_db_session& session_;
  std::uint64_t named_ = 0;
  std::int64_t changes_ = 0;
};

void statement::prepare() {
  const auto generation = owner_.session().generation + 1;
  if (prepared_in_ == generation) return;
  owner_.run(sql_, query{numbered_.sql, {}, name_});
  prepared_in_ = generation;
}

void statement::run() {
  prepare();
  params args;
  for (auto& v : values_) {
    if (v) args.text(*v);
    else args.null();
  }
  result_ = owner_.run(sql_, query{"", std::move(args), name_});
  if (!result_.get()) detail::throw_sql_error(sql_, "no statement", 0);  // only a comment or white space
  owner_.set_changes(result_.affected());
  ran_ = true;
}

bool statement::step() {
  if (!ran_) run();
  return ++row_ < result_.rows();
}

int statement::column_count() const { return ran_ ? result_.columns() : 0; }

std::int64_t statement::column_int(int col) const {
  const auto text = result_.text(row_, col);
  if (text.empty()) return 0;  // NULL
  if (text == "t" || text == "f") return text == "t";  // boolean
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec == std::errc{} && end == text.data() + text.size()) return out;
  const double real = column_real(col);  // numeric, double precision: truncated, as SQLite does
  if (!(real >= -9.2e18 && real <= 9.2e18)) not_a_number(col);
  return static_cast<std::int64_t>(real);
}

double statement::column_real(int col) const {
  const auto text = result_.text(row_, col);
  if (text.empty()) return 0;  // NULL
  if (text == "Infinity") return HUGE_VAL;
  if (text == "-Infinity") return -HUGE_VAL;
  double out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{} || end != text.data() + text.size()) not_a_number(col);
  return out;
}

}  // namespace

std::unique_ptr<detail::sql_connection> make_read_db_backend(read_db_session& session) {
  return std::make_unique<backend>(session);
}

}  // namespace interlock::postgres
