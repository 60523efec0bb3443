// The fast JSON path of INTERLOCK_JSON types: round trips, agreement with
// nlohmann_json in both directions, and errors that name the field.
#include <catch2/catch.hpp>

#include <interlock/runtime/detail/codec.hpp>
#include <interlock/runtime/json_fields.hpp>
#include <interlock/runtime/nlohmann_json.hpp>

namespace jt {

struct Money {  // only nlohmann: reached through the fallback
  std::int64_t cents = 0;
  std::string currency;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Money, cents, currency)

struct Line {
  std::string sku;
  std::uint32_t quantity = 0;
};
INTERLOCK_JSON(Line, sku, quantity)

struct Order {
  std::string id;
  std::int64_t total = 0;
  double rate = 0;
  bool paid = false;
  std::optional<std::string> note;
  std::vector<Line> lines;
  std::map<std::string, int> counts;
  Money price;
  std::int8_t tiny = 0;
};
INTERLOCK_JSON(Order, id, total, rate, paid, note, lines, counts, price, tiny)

bool operator==(const Money& a, const Money& b) { return a.cents == b.cents && a.currency == b.currency; }
bool operator==(const Line& a, const Line& b) { return a.sku == b.sku && a.quantity == b.quantity; }
bool operator==(const Order& a, const Order& b) {
  return a.id == b.id && a.total == b.total && a.rate == b.rate && a.paid == b.paid && a.note == b.note &&
         a.lines == b.lines && a.counts == b.counts && a.price == b.price && a.tiny == b.tiny;
}

Order sample() {
  Order o;
  o.id = "ord-\"1\"\\\n\t\u00e9\xF0\x9F\x98\x80\x01";
  o.total = -9007199254740993;
  o.rate = 0.1;
  o.paid = true;
  o.note = "rush";
  o.lines = {{"a", 1}, {"b", 4000000000u}};
  o.counts = {{"x", 1}, {"y z", -2}};
  o.price = {1999, "EUR"};
  o.tiny = -128;
  return o;
}

struct Base {
  std::string from_base;
};
struct Scalars : Base {  // members of a base class, and every scalar kind the library reads
  bool b = false;
  char c = 0;
  signed char sc = 0;
  unsigned char uc = 0;
  short s = 0;
  unsigned short us = 0;
  int i = 0;
  unsigned u = 0;
  long l = 0;
  unsigned long ul = 0;
  long long ll = 0;
  unsigned long long ull = 0;
  float f = 0;
  double d = 0;
  std::optional<std::vector<std::optional<long>>> nested;
};
INTERLOCK_JSON(Scalars, from_base, b, c, sc, uc, s, us, i, u, l, ul, ll, ull, f, d, nested)

}  // namespace jt

using interlock::detail::decode_json;
using interlock::detail::encode_json;

TEST_CASE("json: INTERLOCK_JSON types round-trip through the fast path", "[json]") {
  auto o = jt::sample();
  auto text = encode_json(o);
  CHECK(decode_json<jt::Order>(text) == o);
  jt::Order empty;
  empty.note.reset();
  CHECK(decode_json<jt::Order>(encode_json(empty)) == empty);
  CHECK(encode_json(empty).find("\"note\":null") != std::string::npos);
}

TEST_CASE("json: the fast path agrees with nlohmann_json both ways", "[json]") {
  auto o = jt::sample();
  CHECK(nlohmann::json::parse(encode_json(o)).get<jt::Order>() == o);  // nlohmann reads what we write
  auto theirs = nlohmann::json(o).dump(2);                              // we read what nlohmann writes, pretty too
  CHECK(decode_json<jt::Order>(theirs) == o);
  CHECK(nlohmann::json::parse(encode_json(o)) == nlohmann::json(o));
}

TEST_CASE("json: unknown fields are skipped, whatever they hold", "[json]") {
  auto l = decode_json<jt::Line>(
      R"({"extra":{"a":[1,{"b":"}]\""}],"c":null},"sku":"k","more":[true,false,-1.5e3],"quantity":3})");
  CHECK(l.sku == "k");
  CHECK(l.quantity == 3);
}

TEST_CASE("json: bad input gives an error that names the field", "[json]") {
  auto error_of = [](const std::string& text) {
    try {
      decode_json<jt::Order>(text);
    } catch (const std::exception& ex) {
      return std::string{ex.what()};
    }
    return std::string{"no error"};
  };
  auto valid = nlohmann::json::parse(encode_json(jt::sample()));
  auto with = [&](const char* key, nlohmann::json value) {
    auto copy = valid;
    copy[key] = std::move(value);
    return copy.dump();
  };
  CHECK(error_of(with("total", "ten")) == "field 'total': expected a number");
  CHECK(error_of(with("tiny", 300)) == "field 'tiny': integer 300 is out of range");
  CHECK(error_of(with("total", 1.5)) == "field 'total': expected an integer, got 1.5");
  CHECK(error_of(with("paid", 1)) == "field 'paid': expected true or false");
  CHECK(error_of(with("lines", nlohmann::json::array({{{"sku", 5}, {"quantity", 1}}}))) ==
        "field 'lines': field 'sku': expected a string");
  auto missing = valid;
  missing.erase("rate");
  CHECK(error_of(missing.dump()) == "missing field 'rate'");
  CHECK_THAT(error_of(with("price", "oops")), Catch::StartsWith("field 'price': [json.exception"));
  CHECK(error_of("[1,2]") == "expected an object");
  CHECK(error_of(valid.dump() + "x") == "unexpected text after the value");
  CHECK(error_of(R"({"id":"unterminated)") == "field 'id': unterminated string");
}

TEST_CASE("json: strings with escapes and surrogate pairs decode like nlohmann", "[json]") {
  auto text = R"({"sku":"\u00e9\ud83d\ude00\/\b\f\n\r\t\"\\","quantity":0})";
  CHECK(decode_json<jt::Line>(text).sku == nlohmann::json::parse(text).at("sku").get<std::string>());
  CHECK_THROWS_WITH(decode_json<jt::Line>(R"({"sku":"\ud83d","quantity":0})"),
                    "field 'sku': bad surrogate pair in a string");
}

TEST_CASE("json: strings are written with the escapes JSON needs, the text between them as it is", "[json]") {
  jt::Line line;
  line.sku = std::string{"a\"b\\c\nd"} + '\x01' + "e\x1f" + "f\tg\b\f\rh";
  const auto text = encode_json(line);
  CHECK(text == R"({"sku":"a\"b\\c\nd\u0001e\u001ff\tg\b\f\rh","quantity":0})");
  CHECK(nlohmann::json::parse(text).at("sku").get<std::string>() == line.sku);
  line.sku = "\"";  // an escape and nothing else
  CHECK(encode_json(line) == R"({"sku":"\"","quantity":0})");
  line.sku = "";
  line.quantity = 7;
  CHECK(encode_json(line) == R"({"sku":"","quantity":7})");
  line.sku = std::string(300, 'x') + "\n";  // longer than the last value of the type
  CHECK(decode_json<jt::Line>(encode_json(line)).sku == line.sku);
}

TEST_CASE("json: one huge value does not make every later small one as large", "[json]") {
  jt::Line line;
  line.sku = std::string(1'000'000, 'x');
  CHECK(encode_json(line).size() > 1'000'000);
  line.sku = "small";
  const auto small = encode_json(line);
  CHECK(small == R"({"sku":"small","quantity":0})");
  CHECK(small.capacity() <= 4096 + 64);  // a bounded size hint, not the huge value's
}

TEST_CASE("json: every scalar member type, members of a base class, nested composites", "[json]") {
  jt::Scalars v;
  v.from_base = "base";
  v.b = true;
  v.c = 'x';
  v.sc = -128;
  v.uc = 255;
  v.s = -32768;
  v.us = 65535;
  v.i = -2147483647 - 1;
  v.u = 4294967295u;
  v.l = -9223372036854775807L - 1;
  v.ul = 18446744073709551615UL;
  v.ll = -42;
  v.ull = 18446744073709551615ULL;
  v.f = 0.5f;
  v.d = -1e300;
  v.nested = std::vector<std::optional<long>>{1, std::nullopt, -3};
  auto text = encode_json(v);
  CHECK(text.starts_with(R"({"from_base":"base","b":true,"c":120,"sc":-128,"uc":255,"s":-32768,"us":65535,)"));
  auto back = decode_json<jt::Scalars>(text);
  CHECK(back.from_base == "base");
  CHECK(back.b);
  CHECK(back.c == 'x');
  CHECK(back.sc == -128);
  CHECK(back.uc == 255);
  CHECK(back.s == -32768);
  CHECK(back.us == 65535);
  CHECK(back.i == v.i);
  CHECK(back.u == v.u);
  CHECK(back.l == v.l);
  CHECK(back.ul == v.ul);
  CHECK(back.ll == -42);
  CHECK(back.ull == v.ull);
  CHECK(back.f == 0.5f);
  CHECK(back.d == -1e300);
  CHECK(back.nested == v.nested);
  // Keys in any order (nlohmann writes them sorted), and a key twice: the last wins.
  auto sorted = nlohmann::json::parse(text).dump();
  CHECK(decode_json<jt::Scalars>(sorted).ull == v.ull);
  auto twice = R"({"i":1,)" + text.substr(1);
  CHECK(decode_json<jt::Scalars>(twice).i == v.i);
}
