#include <interlock/runtime/detail/process_test_store.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/persistence/memory_read_store.hpp>
#include <interlock/persistence/read_store.hpp>

namespace interlock::detail {

process_test_store::process_test_store() {
  auto store = memory_read_store_factory()();
  if (store) store_ = std::move(*store);
}

process_test_store::~process_test_store() = default;

caf::error process_test_store::open(process_instance& instance) {
  if (!store_) return make_error(errc::storage, "process_test: cannot open an in-memory read store");
  instance.attach(&store_->sql());
  return run(instance, [&] { return instance.create_tables(); });
}

caf::error process_test_store::run(process_instance& instance, const std::function<caf::error()>& step) {
  if (auto err = store_->begin()) return err;
  auto err = step();
  if (!err) err = store_->commit();
  if (err) store_->rollback();
  instance.transaction_ended(!err);
  return err;
}

}  // namespace interlock::detail
