#include <interlock/persistence/memory_read_store.hpp>

#include <map>
#include <mutex>

#include <interlock/persistence/journal_detail.hpp>  // now_us
#include <interlock/persistence/read_store_checks.hpp>

namespace interlock {
namespace {

struct shared_checkpoints {
  std::mutex mutex;
  std::map<std::string, projection_checkpoint, std::less<>> by_name;
};

class memory_read_store final : public read_store {
 public:
  explicit memory_read_store(std::shared_ptr<shared_checkpoints> data) : data_(std::move(data)) {}

  caf::expected<std::optional<projection_checkpoint>> load_checkpoint(std::string_view name) override {
    std::lock_guard<std::mutex> lock{data_->mutex};
    auto it = data_->by_name.find(name);
    if (it == data_->by_name.end()) return std::optional<projection_checkpoint>{};
    return std::optional<projection_checkpoint>{it->second};
  }

  caf::error save_checkpoint(std::string_view name, const projection_checkpoint& cp) override {
    if (auto err = detail::check_checkpoint(name, cp)) return err;
    auto stored = cp;
    stored.saved_at_us = detail::now_us();
    std::lock_guard<std::mutex> lock{data_->mutex};
    data_->by_name.insert_or_assign(std::string{name}, std::move(stored));
    return {};
  }

  caf::error remove_checkpoint(std::string_view name) override {
    std::lock_guard<std::mutex> lock{data_->mutex};
    if (auto it = data_->by_name.find(name); it != data_->by_name.end()) data_->by_name.erase(it);
    return {};
  }

  caf::expected<std::vector<std::pair<std::string, projection_checkpoint>>> checkpoints() override {
    std::lock_guard<std::mutex> lock{data_->mutex};
    return std::vector<std::pair<std::string, projection_checkpoint>>{data_->by_name.begin(), data_->by_name.end()};
  }

 private:
  std::shared_ptr<shared_checkpoints> data_;
};

}  // namespace

read_store_factory memory_read_store_factory() {
  auto data = std::make_shared<shared_checkpoints>();
  return [data]() -> caf::expected<std::unique_ptr<read_store>> { return std::make_unique<memory_read_store>(data); };
}

}  // namespace interlock
