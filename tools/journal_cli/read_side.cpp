// Reading a read store's checkpoints and parked events (read_side.hpp).
#include "read_side.hpp"

namespace journal_cli {

std::vector<checkpoint_row> read_checkpoints(database& store) {
  std::vector<checkpoint_row> out;
  store.each("SELECT projection, position, state_version, coalesce(length(CAST(state AS BLOB)), 0), saved_at_us"
             " FROM projection_checkpoints ORDER BY projection",
             {}, [&](const row& r) {
               out.push_back({std::string{r.text(0)}, r.u64(1), r.i64(2), r.u64(3), r.i64(4)});
               return true;
             });
  return out;
}

std::vector<parked_row> read_parked(database& store) {
  std::vector<parked_row> out;
  if (!store.has_table("parked_events")) return out;
  store.each("SELECT projection, position, stream, version, event_type, error, attempts, parked_at_us"
             " FROM parked_events ORDER BY projection, position",
             {}, [&](const row& r) {
               out.push_back({std::string{r.text(0)}, r.u64(1), std::string{r.text(2)}, r.u64(3),
                              std::string{r.text(4)}, std::string{r.text(5)}, r.i64(6), r.i64(7)});
               return true;
             });
  return out;
}

std::optional<database> read_store_for(const std::string& journal_path, const std::string& option) {
  const auto path = option.empty() ? read_store_beside(journal_path) : option;
  if (path.empty()) return std::nullopt;
  return open_read_store(path);
}

}  // namespace journal_cli
