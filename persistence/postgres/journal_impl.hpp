// The PostgreSQL journal's class, shared by the files that implement it by
// concern: postgres_journal.cpp (opening, reconnecting), event_writer.cpp
// (appends), event_reader.cpp (reads, snapshots, the command ledger),
// head_watch.cpp (telling other processes of appends).
// Internal to the PostgreSQL journal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <interlock/persistence/append_chain.hpp>
#include <interlock/persistence/postgres/connection.hpp>
#include <interlock/persistence/postgres/key_cache.hpp>
#include <interlock/persistence/postgres/name_cache.hpp>
#include <interlock/persistence/postgres/statements.hpp>
#include <interlock/persistence/postgres/version_cache.hpp>
#include <interlock/persistence/postgres_journal.hpp>

namespace interlock::postgres {

/// What the first round trip of a batch read under the counter row's lock.
struct batch_state {
  std::uint64_t last_position = 0;
  std::uint64_t next_position = 0;  // decide(): where the next accepted event lands
  std::unordered_map<std::string, std::uint64_t> versions;  // "type\0id" -> version
  std::unordered_set<std::string> commands_seen;
  // The keys of the batch's streams and event types (key_cache.hpp); decide()
  // hands out new ones after the highest ones handed out so far.
  key_map stream_keys, type_keys;
  std::int64_t last_stream_key = 0, last_type_key = 0;
  struct new_key {
    std::int64_t key;
    const std::string *first, *second;  // the names, in the batch's requests
  };
  std::vector<new_key> new_streams, new_types;
};

class postgres_journal final : public journal {
 public:
  static caf::expected<std::unique_ptr<journal>> open(const postgres_options& options);

  std::vector<caf::expected<append_result>> append(const std::vector<append_request>& batch) override;
  caf::expected<std::vector<stored_event>> read_stream(const std::string& aggregate_type,
                                                       const std::string& aggregate_id, std::uint64_t from_version,
                                                       std::size_t max_count) override;
  caf::expected<std::vector<stored_event>> read_all(std::uint64_t from_position, std::size_t max_count) override;
  caf::expected<std::size_t> scan_stream(const std::string& aggregate_type, const std::string& aggregate_id,
                                         std::uint64_t from_version, std::size_t max_count, const event_visitor& visit,
                                         scan_fields fields = scan_fields::all) override;
  caf::expected<std::size_t> scan_all(std::uint64_t from_position, std::size_t max_count, const event_visitor& visit,
                                      scan_fields fields = scan_fields::all) override;
  caf::expected<std::size_t> scan_filtered(std::uint64_t from_position, std::size_t max_count, const log_filter& filter,
                                           const event_visitor& visit, scan_fields fields = scan_fields::all) override;
  caf::expected<std::uint64_t> last_position() override;
  caf::expected<std::uint64_t> stream_version(const std::string& aggregate_type,
                                              const std::string& aggregate_id) override;
  caf::expected<std::optional<snapshot_record>> load_snapshot(const std::string& aggregate_type,
                                                              const std::string& aggregate_id,
                                                              std::uint64_t max_version,
                                                              std::int64_t max_recorded_at_us) override;
  caf::expected<std::optional<command_record>> find_command(const std::string& command_id) override;
  caf::expected<std::unique_ptr<journal_watch>> open_watch() override;  // head_watch.cpp

 private:
  postgres_journal(postgres_options options, connection db);

  // -- connecting (postgres_journal.cpp) --
  caf::error ready();

  // -- appending (event_writer.cpp) --
  caf::error write_batch(const std::vector<append_request>& batch, std::vector<caf::expected<append_result>>& results);
  std::optional<caf::error> write_known(const std::vector<append_request>& batch,
                                        std::vector<caf::expected<append_result>>& results);
  std::optional<batch_state> known_state(const std::vector<append_request>& batch,
                                         const std::vector<caf::expected<append_result>>& results) const;
  caf::error committed(caf::expected<std::vector<result>> done, const batch_state& state);
  caf::expected<batch_state> lock_and_read(const std::vector<append_request>& batch,
                                           const std::vector<caf::expected<append_result>>& results);
  key_map types_known(const std::vector<append_request>& batch,
                      const std::vector<caf::expected<append_result>>& results) const;
  void decide(const std::vector<append_request>& batch, batch_state& state, std::int64_t now,
              std::vector<caf::expected<append_result>>& results);
  static void hand_out_keys(const append_request& req, batch_state& state);
  std::vector<query> writes(const std::vector<append_request>& batch,
                            const std::vector<caf::expected<append_result>>& results, const batch_state& state,
                            std::int64_t now) const;
  void abandon();
  bool refused_data() const;
  std::vector<caf::expected<append_result>> one_by_one(const std::vector<append_request>& batch);

  // -- reading (event_reader.cpp) --
  caf::expected<std::size_t> visit_log(query q, std::size_t max_count, const event_visitor& visit,
                                       const std::string& what);
  caf::error fetch_names(const result& rows);
  query rows_of(const result& page) const;
  caf::expected<std::size_t> visit_rows(query q, std::size_t max_count, const event_visitor& visit,
                                        const std::string& what);

  postgres_options options_;
  connection db_;
  statements q_;
  detail::append_chain chain_;  // what the batches so far left of after_previous chains
  version_cache versions_;      // the stream versions this connection's batches left
  key_cache keys_;              // the stream and event type keys they read or handed out
  name_cache names_;            // the names behind the keys the log reads met
  int short_way_rests_ = 0;     // batches that go the long way before write_known() is tried again
};

/// "first\0second": how batch_state and the caches name a stream ("type\0id")
/// or an event type ("aggregate type\0event type").
inline std::string names_key(const std::string& first, const std::string& second) {
  return first + '\0' + second;
}

/// A count or version as a bigint parameter (clamped: LIMIT takes no more).
inline std::int64_t to_bigint(std::uint64_t n) {
  return n > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(n);
}

}  // namespace interlock::postgres
