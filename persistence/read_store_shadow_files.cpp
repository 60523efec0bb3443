#include <interlock/persistence/read_store_shadow_files.hpp>

#include <cstdint>
#include <filesystem>
#include <vector>

#include <interlock/core/log.hpp>

namespace interlock::detail {
namespace {

constexpr std::string_view marker = ".rebuild-";

bool plain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

// FNV-1a: the same name gives the same file in every run.
std::string hash_of(std::string_view name) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i, h >>= 4) out.push_back(digits[h & 15]);
  return out;
}

std::string file_part(std::string_view name) {
  std::string out;
  bool changed = name.size() > 64;
  for (char c : name.substr(0, 64)) {
    changed = changed || !plain(c);
    out.push_back(plain(c) ? c : '_');
  }
  return changed ? out + "-" + hash_of(name) : out;
}

}  // namespace

bool is_uri(const std::string& path) { return path.starts_with("file:"); }

std::string shadow_path_for(const std::string& store_path, std::string_view name) {
  const auto part = std::string{marker}.append(file_part(name));
  if (!is_uri(store_path)) return store_path + part + ".db";
  const auto query = store_path.find('?');
  if (query == std::string::npos) return store_path + part;
  return store_path.substr(0, query) + part + store_path.substr(query);
}

void remove_database_files(const std::string& path) {
  if (is_uri(path)) return;
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ignored);
}

void remove_leftover_shadows(const std::string& store_path) {
  if (is_uri(store_path)) return;
  const std::filesystem::path store{store_path};
  const auto prefix = store.filename().string() + std::string{marker};
  auto folder = store.parent_path();
  if (folder.empty()) folder = ".";
  std::error_code err;
  std::vector<std::filesystem::path> leftovers;
  for (auto it = std::filesystem::directory_iterator{folder, err}; !err && it != std::filesystem::directory_iterator{};
       it.increment(err))
    if (it->path().filename().string().starts_with(prefix)) leftovers.push_back(it->path());
  for (auto& file : leftovers) {
    std::error_code ignored;
    if (std::filesystem::remove(file, ignored) && file.extension() == ".db")  // its -wal and -shm go quietly
      log(log_level::warning, "read store '" + store_path + "': removed " + file.string() +
                                  ", left by a rebuild that did not finish");
  }
}

}  // namespace interlock::detail
