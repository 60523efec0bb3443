// The PostgreSQL journal's watch (persistence/journal_watch.hpp): a
// connection of its own that LISTENs on the schema's channel, where every
// batch with events tells the counter row's new value as it commits
// (statements.cpp: notify_head, event_writer.cpp). PostgreSQL delivers a
// notification at COMMIT, in commit order, so a payload is a position that
// is committed, with every one before it. Notifications are lost only with
// the connection (or never sent: a batch of another build); the counter row
// is read after every connect, and whenever `poll` passes without a
// notification, which bounds how late a lost one is made up for.
#include <interlock/persistence/postgres/journal_impl.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <optional>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/journal_watch.hpp>

namespace interlock::postgres {
namespace {

class head_watch final : public journal_watch {
 public:
  head_watch(postgres_options options, const statements& q, int wake_fd)
      : options_(std::move(options)), listen_(q.listen), read_head_(q.last_position), wake_fd_(wake_fd) {}
  ~head_watch() override { ::close(wake_fd_); }
  head_watch(const head_watch&) = delete;
  head_watch& operator=(const head_watch&) = delete;

  // LISTEN first, then read the row: whatever commits after the read is told.
  caf::error connect() {
    db_.reset();
    auto db = connection::open(options_.url, options_.timeout);
    if (!db) return failed(db.error());
    if (auto ok = db->run_one({listen_}, options_.timeout); !ok) return failed(ok.error());
    db_.emplace(std::move(*db));
    return {};
  }

  caf::expected<std::uint64_t> wait(std::chrono::milliseconds poll) override {
    if (interrupted_.load()) return known_;
    if (!db_ || !db_->usable()) {
      if (auto err = connect()) return err;
      return read_head();  // what came while there was no connection
    }
    auto told = db_->notifications(poll, wake_fd_);
    if (!told) return failed(told.error());
    if (interrupted_.load()) return known_;
    if (auto head = highest(*told)) return known_ = std::max(known_, *head);
    return read_head();  // `poll` passed (or a payload not ours): the row says
  }

  void interrupt() override {
    interrupted_.store(true);
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }

 private:
  caf::expected<std::uint64_t> read_head() {
    auto r = db_->run_one({read_head_}, options_.timeout);
    if (!r) return failed(r.error());
    const auto head = static_cast<std::uint64_t>(r->rows() == 1 ? r->int64(0, 0) : 0);
    return known_ = std::max(known_, head);
  }

  static std::optional<std::uint64_t> highest(const std::vector<std::string>& payloads) {
    std::optional<std::uint64_t> out;
    for (const auto& p : payloads) {
      std::uint64_t v = 0;
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
      if (ec == std::errc{} && end == p.data() + p.size()) out = std::max(out.value_or(0), v);
    }
    return out;
  }

  caf::error failed(const caf::error& err) const {
    return make_error(errc::storage,
                      "cannot watch journal schema '" + options_.schema + "' for other writers: " + message_of(err));
  }

  postgres_options options_;
  std::string listen_;
  std::string read_head_;
  int wake_fd_;
  std::optional<connection> db_;
  std::uint64_t known_ = 0;  // the highest position seen: never reported lower
  std::atomic<bool> interrupted_{false};
};

}  // namespace

caf::expected<std::unique_ptr<journal_watch>> postgres_journal::open_watch() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return make_error(errc::storage, "cannot watch journal schema '" + options_.schema + "': no eventfd");
  auto watch = std::make_unique<head_watch>(options_, q_, fd);
  if (auto err = watch->connect()) return err;
  return std::unique_ptr<journal_watch>{std::move(watch)};
}

}  // namespace interlock::postgres
