#include <catch2/catch.hpp>

#include <set>

#include <interlock/runtime/ulid.hpp>

TEST_CASE("ulid: 26 Crockford base32 characters that round-trip", "[ulid]") {
  auto id = interlock::ulid::generate();
  auto text = id.to_string();
  REQUIRE(text.size() == 26);
  CHECK(text.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") == std::string::npos);
  auto back = interlock::ulid::parse(text);
  REQUIRE(back);
  CHECK(*back == id);
  auto lower = text;
  for (auto& c : lower) c = static_cast<char>(std::tolower(c));
  CHECK(interlock::ulid::parse(lower) == id);
}

TEST_CASE("ulid: the timestamp is the generation time in milliseconds", "[ulid]") {
  using namespace std::chrono;
  auto before = time_point_cast<milliseconds>(system_clock::now());
  auto id = interlock::ulid::generate();
  auto after = system_clock::now();
  CHECK(id.timestamp() >= before);
  CHECK(id.timestamp() <= after);
}

TEST_CASE("ulid: ids from one process are strictly increasing", "[ulid]") {
  std::string prev;
  std::set<std::string> all;
  for (int i = 0; i < 10000; ++i) {
    auto id = interlock::new_id();
    CHECK(id > prev);
    prev = id;
    all.insert(id);
  }
  CHECK(all.size() == 10000);
}

TEST_CASE("ulid: parse rejects bad input", "[ulid]") {
  CHECK_FALSE(interlock::ulid::parse(""));
  CHECK_FALSE(interlock::ulid::parse("01ARZ3NDEKTSV4RRFFQ69G5FA"));    // 25 chars
  CHECK_FALSE(interlock::ulid::parse("01ARZ3NDEKTSV4RRFFQ69G5FAVX"));  // 27 chars
  CHECK_FALSE(interlock::ulid::parse("01ARZ3NDEKTSV4RRFFQ69G5FA!"));   // bad char
  CHECK_FALSE(interlock::ulid::parse("81ARZ3NDEKTSV4RRFFQ69G5FAV"));   // overflows 128 bits
  auto known = interlock::ulid::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV");   // the spec's example id;
  REQUIRE(known);
  // its first 10 characters, 01ARZ3NDEK, are 1469922850259 in base32
  CHECK(known->timestamp().time_since_epoch() == std::chrono::milliseconds{1469922850259});
  CHECK(known->to_string() == "01ARZ3NDEKTSV4RRFFQ69G5FAV");
}
