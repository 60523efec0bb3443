#include <interlock/persistence/sqlite/event_copies.hpp>

#include <interlock/persistence/sqlite/runs.hpp>

namespace interlock::sqlite {
namespace {

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_text(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

}  // namespace

void append_copy(std::string& copies, const event_view& e) {
  append_offset(copies, e.position);
  put_varint(copies, e.version);
  put_varint(copies, e.schema_version);
  put_varint(copies, zigzag(e.recorded_at_us));
  put_text(copies, e.aggregate_id);
  put_text(copies, e.payload);
  put_text(copies, e.command_id);
  put_text(copies, e.correlation_id);
  put_text(copies, e.causation_id);
}

bool copy_reader::varint(std::uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64 && !in_.empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in_.front());
    in_.remove_prefix(1);
    out |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool copy_reader::text(std::string_view& out) {
  std::uint64_t size = 0;
  if (!varint(size) || size > in_.size()) return false;
  out = in_.substr(0, size);
  in_.remove_prefix(size);
  return true;
}

bool copy_reader::next(event_view& out) {
  if (broken_ || in_.empty()) return false;
  const auto at = 2 * read_;
  std::uint64_t version = 0, schema = 0, time = 0;
  broken_ = in_.size() < 2 || at + 2 > offsets_.size() || in_.substr(0, 2) != offsets_.substr(at, 2);
  if (broken_) return false;
  out.position = position_in_run(in_, span_, 0);
  in_.remove_prefix(2);
  broken_ = !varint(version) || !varint(schema) || !varint(time) || !text(out.aggregate_id) || !text(out.payload) ||
            !text(out.command_id) || !text(out.correlation_id) || !text(out.causation_id);
  if (broken_) return false;
  out.version = version;
  out.schema_version = static_cast<std::uint32_t>(schema);
  out.recorded_at_us = unzigzag(time);
  ++read_;
  return true;
}

}  // namespace interlock::sqlite
