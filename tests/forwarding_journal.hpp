// A journal that hands every call to another one. Test doubles derive from
// it and override what they change (append, mostly).
#pragma once

#include <memory>
#include <utility>

#include <interlock/persistence/journal.hpp>

namespace testing_support {

struct forwarding_journal : interlock::journal {
  std::unique_ptr<interlock::journal> inner;
  explicit forwarding_journal(std::unique_ptr<interlock::journal> j) : inner(std::move(j)) {}

  std::vector<caf::expected<interlock::append_result>> append(
      const std::vector<interlock::append_request>& batch) override {
    return inner->append(batch);
  }
  caf::expected<std::vector<interlock::stored_event>> read_stream(const std::string& t, const std::string& id,
                                                                  std::uint64_t from, std::size_t n) override {
    return inner->read_stream(t, id, from, n);
  }
  caf::expected<std::vector<interlock::stored_event>> read_all(std::uint64_t from, std::size_t n) override {
    return inner->read_all(from, n);
  }
  caf::expected<std::uint64_t> last_position() override { return inner->last_position(); }
  caf::expected<std::optional<interlock::snapshot_record>> load_snapshot(const std::string& t, const std::string& id,
                                                                         std::uint64_t v, std::int64_t at) override {
    return inner->load_snapshot(t, id, v, at);
  }
  caf::expected<std::optional<interlock::command_record>> find_command(const std::string& id) override {
    return inner->find_command(id);
  }
  caf::expected<std::uint64_t> stream_version(const std::string& t, const std::string& id) override {
    return inner->stream_version(t, id);
  }
};

}  // namespace testing_support
