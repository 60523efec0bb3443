#include <interlock/persistence/memory_journal.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/append_chain.hpp>
#include <interlock/persistence/journal_detail.hpp>

namespace interlock {
namespace {

// What all journals of one factory share: the log and, per stream, the
// positions of its events (index = version - 1).
struct memory_store {
  std::mutex mutex;
  std::vector<stored_event> events;  // index = position - 1
  std::map<std::pair<std::string, std::string>, std::vector<std::uint64_t>> streams;
  std::map<std::pair<std::string, std::string>, std::vector<snapshot_record>> snapshots;  // oldest first
  std::map<std::string, command_record> commands;
};

// Grows geometrically (a plain reserve(size + n) would reallocate every time).
template <class T>
void reserve_more(std::vector<T>& v, std::size_t n) {
  if (v.capacity() - v.size() < n) v.reserve(std::max(v.size() + n, 2 * v.capacity()));
}

class memory_journal final : public journal {
 public:
  explicit memory_journal(std::shared_ptr<memory_store> store) : store_(std::move(store)) {}

  std::vector<caf::expected<append_result>> append(const std::vector<append_request>& batch) override {
    std::vector<caf::expected<append_result>> results;
    results.reserve(batch.size());
    std::lock_guard<std::mutex> lock{store_->mutex};
    // One timestamp per batch, as the SQLite journal records its commit time.
    const auto now = detail::now_us();
    for (const auto& req : batch) {
      results.push_back(chain_.broken(req) ? detail::previous_failed(req) : append_one(req, now));
      chain_.record(req, static_cast<bool>(results.back()));
    }
    return results;
  }

  caf::expected<std::vector<stored_event>> read_stream(const std::string& aggregate_type,
                                                       const std::string& aggregate_id,
                                                       std::uint64_t from_version,
                                                       std::size_t max_count) override {
    if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
    std::vector<stored_event> out;
    std::lock_guard<std::mutex> lock{store_->mutex};
    auto it = store_->streams.find({aggregate_type, aggregate_id});
    if (it == store_->streams.end()) return out;
    const auto& positions = it->second;
    const auto first = std::max<std::uint64_t>(from_version, 1) - 1;  // versions are 1-based
    for (auto i = first; i < positions.size() && out.size() < max_count; ++i)
      out.push_back(store_->events[positions[i] - 1]);
    return out;
  }

  caf::expected<std::vector<stored_event>> read_all(std::uint64_t from_position,
                                                    std::size_t max_count) override {
    std::vector<stored_event> out;
    std::lock_guard<std::mutex> lock{store_->mutex};
    const auto& events = store_->events;
    const auto first = std::max<std::uint64_t>(from_position, 1) - 1;  // positions are 1-based
    for (auto i = first; i < events.size() && out.size() < max_count; ++i) out.push_back(events[i]);
    return out;
  }

  caf::expected<std::uint64_t> last_position() override {
    std::lock_guard<std::mutex> lock{store_->mutex};
    return static_cast<std::uint64_t>(store_->events.size());
  }

  caf::expected<std::optional<snapshot_record>> load_snapshot(const std::string& aggregate_type,
                                                              const std::string& aggregate_id,
                                                              std::uint64_t max_version,
                                                              std::int64_t max_recorded_at_us) override {
    if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
    std::lock_guard<std::mutex> lock{store_->mutex};
    auto it = store_->snapshots.find({aggregate_type, aggregate_id});
    if (it == store_->snapshots.end()) return std::optional<snapshot_record>{};
    for (auto s = it->second.rbegin(); s != it->second.rend(); ++s)
      if (s->version <= max_version && s->recorded_at_us <= max_recorded_at_us) return std::optional{*s};
    return std::optional<snapshot_record>{};
  }

  caf::expected<std::optional<command_record>> find_command(const std::string& command_id) override {
    std::lock_guard<std::mutex> lock{store_->mutex};
    auto it = store_->commands.find(command_id);
    if (it == store_->commands.end()) return std::optional<command_record>{};
    return std::optional{it->second};
  }

  caf::expected<std::uint64_t> stream_version(const std::string& aggregate_type,
                                              const std::string& aggregate_id) override {
    if (auto err = detail::validate_stream_name(aggregate_type, aggregate_id)) return err;
    std::lock_guard<std::mutex> lock{store_->mutex};
    auto it = store_->streams.find({aggregate_type, aggregate_id});
    return it == store_->streams.end() ? std::uint64_t{0} : static_cast<std::uint64_t>(it->second.size());
  }

 private:
  // Requires the store's mutex. Nothing here can fail halfway (short of
  // bad_alloc), so a request commits entirely or not at all.
  caf::expected<append_result> append_one(const append_request& req, std::int64_t now) {
    if (auto err = detail::validate(req)) return err;
    if (req.record_command && store_->commands.count(req.command_id)) return detail::command_seen(req);
    const std::pair key{req.aggregate_type, req.aggregate_id};
    const auto found = store_->streams.find(key);
    const std::uint64_t version = found == store_->streams.end() ? 0 : found->second.size();
    if (version != req.expected_version) return detail::conflict(req, version);
    const auto res = detail::landing(req, store_->events.size() + 1, now);
    // A stream exists once it has events: a recorded command alone makes none.
    if (!req.events.empty()) append_events(req, res, store_->streams[key]);
    if (req.snapshot) keep_snapshot(req, now);
    if (req.record_command) store_->commands.emplace(req.command_id, detail::command_of(req, res));
    return res;
  }

  void append_events(const append_request& req, const append_result& res, std::vector<std::uint64_t>& positions) {
    auto events = committed_events(req, res);
    // Make room first: the push_backs below then cannot throw, so a request
    // is never half-appended.
    reserve_more(positions, events.size());
    reserve_more(store_->events, events.size());
    for (auto& ev : events) {
      positions.push_back(ev.position);
      store_->events.push_back(std::move(ev));
    }
  }

  void keep_snapshot(const append_request& req, std::int64_t now) {
    auto& kept = store_->snapshots[{req.aggregate_type, req.aggregate_id}];
    kept.push_back(*req.snapshot);
    kept.back().recorded_at_us = now;
    if (kept.size() > req.keep_snapshots) kept.erase(kept.begin(), kept.end() - req.keep_snapshots);
  }

  std::shared_ptr<memory_store> store_;
  detail::append_chain chain_;  // appends only
};

}  // namespace

journal_factory memory_journal_factory() {
  auto store = std::make_shared<memory_store>();
  return [store]() -> caf::expected<std::unique_ptr<journal>> {
    return std::unique_ptr<journal>{std::make_unique<memory_journal>(store)};
  };
}

}  // namespace interlock
