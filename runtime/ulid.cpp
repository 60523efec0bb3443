#include <interlock/runtime/ulid.hpp>

#include <mutex>
#include <random>

namespace interlock {
namespace {

constexpr char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int decode_char(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'I' || c == 'L') c = '1';
  if (c == 'O') c = '0';
  for (int i = 0; i < 32; ++i)
    if (crockford[i] == c) return i;
  return -1;
}

// Process-wide generator state: monotonic within a millisecond.
struct generator {
  std::mutex mtx;
  std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t last_ms = 0;
  std::array<std::uint8_t, 10> last_random{};

  void next(std::uint64_t ms, std::array<std::uint8_t, 10>& out) {
    std::lock_guard<std::mutex> guard{mtx};
    if (ms <= last_ms) {
      increment(last_random);
    } else {
      last_ms = ms;
      for (auto& b : last_random) b = static_cast<std::uint8_t>(rng());
    }
    out = last_random;
  }

  static void increment(std::array<std::uint8_t, 10>& r) {
    for (auto i = r.size(); i-- > 0;)
      if (++r[i] != 0) return;
  }
};

generator& global_generator() {
  static generator g;
  return g;
}

}  // namespace

ulid ulid::generate() {
  using namespace std::chrono;
  auto ms = static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  auto& g = global_generator();
  std::array<std::uint8_t, 10> random;
  g.next(ms, random);
  ms = std::max(ms, g.last_ms);
  ulid id;
  for (int i = 0; i < 6; ++i) id.bytes_[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  for (int i = 0; i < 10; ++i) id.bytes_[6 + i] = random[i];
  return id;
}

std::string ulid::to_string() const {
  // 128 bits as 26 base32 digits: the first digit carries the top 3 bits.
  std::string out(26, '0');
  unsigned __int128 value = 0;
  for (auto b : bytes_) value = (value << 8) | b;
  for (int i = 25; i >= 0; --i) {
    out[i] = crockford[static_cast<int>(value & 31)];
    value >>= 5;
  }
  return out;
}

std::optional<ulid> ulid::parse(std::string_view text) {
  if (text.size() != 26) return std::nullopt;
  unsigned __int128 value = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto digit = decode_char(text[i]);
    if (digit < 0 || (i == 0 && digit > 7)) return std::nullopt;
    value = (value << 5) | static_cast<unsigned>(digit);
  }
  ulid id;
  for (int i = 15; i >= 0; --i) {
    id.bytes_[i] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
  return id;
}

std::chrono::system_clock::time_point ulid::timestamp() const {
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | bytes_[i];
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

std::string new_id() { return ulid::generate().to_string(); }

}  // namespace interlock
