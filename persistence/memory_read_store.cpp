#include <interlock/persistence/memory_read_store.hpp>

#include <atomic>
#include <memory>

#include <interlock/persistence/sqlite_read_store.hpp>

namespace interlock {

read_store_factory memory_read_store_factory() {
  // A named in-memory database in shared-cache mode is one database for every
  // connection that opens its name, alive while one of them is open: the
  // first store holds it for the factory's lifetime.
  static std::atomic<std::uint64_t> next{0};
  auto uri = "file:interlock-read-store-" + std::to_string(next++) + "?mode=memory&cache=shared";
  auto keeper = std::make_shared<std::unique_ptr<read_store>>();
  return [uri, keeper]() -> caf::expected<std::unique_ptr<read_store>> {
    if (!*keeper) {
      auto first = open_sqlite_read_store(uri);
      if (!first) return first;
      *keeper = std::move(*first);
    }
    return open_sqlite_read_store(uri);
  };
}

}  // namespace interlock
