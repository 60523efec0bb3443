// The SQLite journal's watch (persistence/journal_watch.hpp): SQLite tells
// no one of a commit, so a connection of its own to the file looks every
// `poll`: PRAGMA data_version (no I/O: it changes when another connection
// committed), and only then the last position. `poll` is the bound on how
// late another process's append is seen.
#include <interlock/persistence/sqlite/journal_impl.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal_watch.hpp>

namespace interlock::sqlite {
namespace {

class head_watch final : public journal_watch {
 public:
  explicit head_watch(std::string path) : path_(std::move(path)) {}

  caf::error open() {
    if (db_.open(path_) != SQLITE_OK || db_.exec("PRAGMA busy_timeout = 5000") != SQLITE_OK ||
        data_version_.prepare(db_.get(), "PRAGMA data_version") != SQLITE_OK ||
        last_position_.prepare(db_.get(), "SELECT global_position FROM events ORDER BY global_position DESC LIMIT 1") !=
            SQLITE_OK)
      return failed();
    return {};
  }

  caf::expected<std::uint64_t> wait(std::chrono::milliseconds poll) override {
    {
      std::unique_lock lock{mutex_};
      if (wake_.wait_for(lock, poll, [&] { return interrupted_; })) return known_;
    }
    std::int64_t version = 0;
    if (read_one(data_version_, version) != SQLITE_OK) return failed();
    if (version == seen_version_) return known_;
    std::int64_t last = 0;
    if (read_one(last_position_, last) != SQLITE_OK) return failed();
    seen_version_ = version;
    return known_ = std::max(known_, static_cast<std::uint64_t>(last));
  }

  void interrupt() override {
    {
      std::lock_guard lock{mutex_};
      interrupted_ = true;
    }
    wake_.notify_one();
  }

 private:
  static int read_one(statement& q, std::int64_t& out) {
    reset_on_exit done{q};
    const int rc = q.step();
    out = rc == SQLITE_ROW ? q.column_int64(0) : 0;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
  }

  caf::error failed() const {
    return make_error(errc::storage, "cannot watch journal '" + path_ + "' for other writers: " + db_.last_error());
  }

  std::string path_;
  connection db_;  // before the statements: they are finalized first
  statement data_version_;
  statement last_position_;
  std::int64_t seen_version_ = -1;
  std::uint64_t known_ = 0;  // the highest position seen: never reported lower
  std::mutex mutex_;
  std::condition_variable wake_;
  bool interrupted_ = false;  // under mutex_
};

}  // namespace

caf::expected<std::unique_ptr<journal_watch>> sqlite_journal::open_watch() {
  auto watch = std::make_unique<head_watch>(path_);
  if (auto err = watch->open()) return err;
  return std::unique_ptr<journal_watch>{std::move(watch)};
}

}  // namespace interlock::sqlite
