#include <interlock/persistence/read_store.hpp>

#include <interlock/core/errors.hpp>

namespace interlock {

caf::expected<std::unique_ptr<read_store>> read_store::open_shadow(std::string_view name) {
  return make_error(errc::invalid_argument,
                    "projection " + std::string{name} + ": this read store cannot hold a rebuild beside its tables");
}

caf::error read_store::swap_in(std::string_view name, read_store&, std::uint64_t) {
  return make_error(errc::invalid_argument,
                    "projection " + std::string{name} + ": this read store cannot hold a rebuild beside its tables");
}

std::string read_store_path_for(const std::string& journal_path) {
  constexpr std::string_view suffix = ".db";
  auto stem = std::string_view{journal_path};
  if (stem.size() > suffix.size() && stem.ends_with(suffix)) stem.remove_suffix(suffix.size());
  return std::string{stem}.append(".read.db");
}

}  // namespace interlock
