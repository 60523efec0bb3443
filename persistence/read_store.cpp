#include <interlock/persistence/read_store.hpp>

namespace interlock {

std::string read_store_path_for(const std::string& journal_path) {
  constexpr std::string_view suffix = ".db";
  auto stem = std::string_view{journal_path};
  if (stem.size() > suffix.size() && stem.ends_with(suffix)) stem.remove_suffix(suffix.size());
  return std::string{stem}.append(".read.db");
}

}  // namespace interlock
