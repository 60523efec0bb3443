#include <interlock/runtime/detail/json_text.hpp>
#include <interlock/runtime/nlohmann_json.hpp>

#include <cctype>

#include <interlock/core/detail/utf8.hpp>

namespace interlock::detail {
namespace {

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool parse_hex4(const char* p, unsigned& out) {
  out = 0;
  for (int i = 0; i < 4; ++i) {
    char c = p[i];
    unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
    if (d == 16) return false;
    out = out * 16 + d;
  }
  return true;
}

}  // namespace

bool json_cursor::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  return false;
}

bool json_cursor::fail_in_field(std::string_view name) {
  error_ = "field '" + std::string{name} + "': " + error_;
  return false;
}

bool json_cursor::read_key(std::string_view& key, std::string& scratch) {
  skip_ws();
  if (p_ == end_ || *p_ != '"') return fail("expected a string key");
  auto start = ++p_;
  while (p_ < end_ && *p_ != '"' && *p_ != '\\') ++p_;
  if (p_ < end_ && *p_ == '"') {
    key = std::string_view{start, static_cast<std::size_t>(p_ - start)};
    ++p_;
    return true;
  }
  scratch.assign(start, p_);
  if (!read_escaped(scratch)) return false;
  key = scratch;
  return true;
}

bool json_cursor::read_string(std::string& out) {
  skip_ws();
  if (p_ == end_ || *p_ != '"') return fail("expected a string");
  auto start = ++p_;
  while (p_ < end_ && *p_ != '"' && *p_ != '\\') ++p_;
  out.assign(start, p_);
  if (p_ < end_ && *p_ == '"') {
    ++p_;
    return true;
  }
  return read_escaped(out);
}

// Continues a string at a backslash (or the end of the text).
bool json_cursor::read_escaped(std::string& out) {
  while (p_ < end_) {
    char c = *p_++;
    if (c == '"') return true;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (p_ == end_) break;
    char e = *p_++;
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        unsigned cp = 0;
        if (end_ - p_ < 4 || !parse_hex4(p_, cp)) return fail("bad \\u escape in a string");
        p_ += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair
          unsigned low = 0;
          if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u' || !parse_hex4(p_ + 2, low) || low < 0xDC00 || low > 0xDFFF)
            return fail("bad surrogate pair in a string");
          p_ += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default: {
        std::string message = "bad escape \\";
        message += e;
        return fail(message + " in a string");
      }
    }
  }
  return fail("unterminated string");
}

bool json_cursor::read_bool(bool& out) {
  skip_ws();
  if (end_ - p_ >= 4 && std::string_view{p_, 4} == "true") {
    p_ += 4;
    out = true;
    return true;
  }
  if (end_ - p_ >= 5 && std::string_view{p_, 5} == "false") {
    p_ += 5;
    out = false;
    return true;
  }
  return fail("expected true or false");
}

bool json_cursor::try_null() {
  skip_ws();
  if (end_ - p_ >= 4 && std::string_view{p_, 4} == "null") {
    p_ += 4;
    return true;
  }
  return false;
}

bool json_cursor::read_number_text(std::string_view& out) {
  skip_ws();
  auto start = p_;
  while (p_ < end_ && (std::isdigit(static_cast<unsigned char>(*p_)) || *p_ == '-' || *p_ == '+' || *p_ == '.' ||
                       *p_ == 'e' || *p_ == 'E'))
    ++p_;
  if (p_ == start) return fail("expected a number");
  out = std::string_view{start, static_cast<std::size_t>(p_ - start)};
  return true;
}

bool json_cursor::read_double(double& out) {
  std::string_view text;
  if (!read_number_text(text)) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return fail("expected a number, got " + std::string{text});
  return true;
}

bool json_cursor::skip_container(char open, char close) {
  ++p_;  // the opening bracket
  int depth = 1;
  while (p_ < end_ && depth > 0) {
    char c = *p_++;
    if (c == '"') {
      while (p_ < end_ && *p_ != '"') p_ += (*p_ == '\\') ? 2 : 1;
      if (p_ >= end_) return fail("unterminated string");
      ++p_;
    } else if (c == open) {
      ++depth;
    } else if (c == close) {
      --depth;
    }
  }
  return depth == 0 || fail(std::string{"unterminated "} + (open == '{' ? "object" : "array"));
}

bool json_cursor::skip_value() {
  std::string_view ignored;
  return raw_value(ignored);
}

bool json_cursor::raw_value(std::string_view& out) {
  skip_ws();
  if (p_ == end_) return fail("expected a value");
  auto start = p_;
  bool ok = true;
  std::string ignored;
  bool b = false;
  switch (*p_) {
    case '{': ok = skip_container('{', '}'); break;
    case '[': ok = skip_container('[', ']'); break;
    case '"': ok = read_string(ignored); break;
    case 't':
    case 'f': ok = read_bool(b); break;
    case 'n': ok = try_null() || fail("expected a value"); break;
    default: {
      std::string_view number;
      ok = read_number_text(number);
    }
  }
  out = std::string_view{start, static_cast<std::size_t>(p_ - start)};
  return ok;
}

namespace {
// What JSON strings must escape: '"', '\\' and control characters.
bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void write_escaped(std::string& out, unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
  switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    default: {
      const char code[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      out.append(code, sizeof code);
    }
  }
}
}  // namespace

// Copies the runs between escapes whole: most strings have no escape at all.
void write_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!needs_escape(c)) continue;
    out.append(s.data() + run, i - run);
    write_escaped(out, c);
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void write_json_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";  // as nlohmann_json does
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, end);
}


void write_json_document(std::string& out, const nlohmann::json& j) {
  try {
    out += j.dump();
    return;
  } catch (const nlohmann::json::type_error&) {  // a string that is not UTF-8: written as it is below
  }
  if (j.is_string()) return write_json_string(out, j.get_ref<const std::string&>());
  if (!j.is_structured()) return void(out += j.dump());
  const bool object = j.is_object();
  out += object ? '{' : '[';
  bool first = true;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!std::exchange(first, false)) out += ',';
    if (object) {
      write_json_string(out, it.key());
      out += ':';
    }
    write_json_document(out, *it);
  }
  out += object ? '}' : ']';
}

namespace {

// Finds the string in JSON text that holds the byte at `bad` and says which
// field it is in. The text is the writers' own, so well-formed; and they
// escape ASCII only, so each escape in a string is one byte of its value.
class field_finder {
 public:
  field_finder(std::string_view text, std::size_t bad) : text_(text), bad_(bad) {}

  std::string message() {
    walk_value("");
    if (!found_.empty()) return found_;
    return "the JSON text is not valid UTF-8 (" + describe_utf8_error(text_[bad_], bad_) + ")";
  }

 private:
  // Each walk returns false to stop: the byte is found, or the text ended.
  bool walk_value(const std::string& path) {
    skip_ws();
    if (pos_ >= text_.size()) return false;
    switch (text_[pos_]) {
      case '{': return walk_container(path, '}');
      case '[': return walk_container(path, ']');
      case '"': return walk_string(path, false);
      default:  // a number, true, false or null
        while (pos_ < text_.size() && std::string_view{",]} \n\t\r"}.find(text_[pos_]) == std::string_view::npos) ++pos_;
        return true;
    }
  }

  bool walk_container(const std::string& path, char close) {
    ++pos_;
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == close) return ++pos_, true;
    for (std::size_t index = 0;; ++index) {
      std::string inner;
      if (close == '}') {
        skip_ws();
        const auto key_start = pos_ + 1;
        if (!walk_string(path, true)) return false;
        const auto key = text_.substr(key_start, pos_ - 1 - key_start);
        inner = path.empty() ? std::string{key} : path + "." + std::string{key};
        skip_ws();
        ++pos_;  // ':'
      } else {
        inner = path + "[" + std::to_string(index) + "]";
      }
      if (!walk_value(inner)) return false;
      skip_ws();
      if (pos_ >= text_.size()) return false;
      if (text_[pos_++] == close) return true;  // else a ','
    }
  }

  // A string from its opening quote at pos_; pos_ ends past its closing quote.
  bool walk_string(const std::string& path, bool key) {
    const auto start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') pos_ += text_[pos_] == '\\' ? 2 : 1;
    if (pos_ >= text_.size()) return false;
    ++pos_;
    if (bad_ < start || bad_ >= pos_) return true;
    std::string where = key ? (path.empty() ? "a key" : "a key in field '" + path + "'")
                            : (path.empty() ? "the string" : "field '" + path + "'");
    found_ = where + " is not valid UTF-8 (" + describe_utf8_error(text_[bad_], value_offset(start)) + ")";
    return false;
  }

  // The offset of the bad byte in the value of the string whose text starts
  // at `start`: an escape is one byte of it (\n, \u001f).
  std::size_t value_offset(std::size_t start) const {
    std::size_t offset = 0;
    for (auto i = start; i < bad_; ++offset) i += text_[i] != '\\' ? 1 : text_[i + 1] == 'u' ? 6 : 2;
    return offset;
  }

  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }

  std::string_view text_;
  std::size_t bad_;
  std::size_t pos_ = 0;
  std::string found_;
};

}  // namespace

std::string invalid_text_in(std::string_view json) {
  const auto bad = utf8_error_at(json);
  if (bad == std::string_view::npos) return {};
  return field_finder{json, bad}.message();
}

// ---------------------------------------------------------------- fields

namespace {

template <class I>
constexpr json_codec integer_codec{
    [](json_cursor& c, void* v) { return c.read_integer(*static_cast<I*>(v)); },
    [](std::string& out, const void* v) {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *static_cast<const I*>(v));
      out.append(buf, end);
    }};

template <class F>
constexpr json_codec floating_codec{
    [](json_cursor& c, void* v) {
      double d = 0;
      if (!c.read_double(d)) return false;
      *static_cast<F*>(v) = static_cast<F>(d);
      return true;
    },
    [](std::string& out, const void* v) { write_json_double(out, static_cast<double>(*static_cast<const F*>(v))); }};

constexpr json_codec bool_codec{[](json_cursor& c, void* v) { return c.read_bool(*static_cast<bool*>(v)); },
                                [](std::string& out, const void* v) {
                                  out += *static_cast<const bool*>(v) ? "true" : "false";
                                }};

constexpr json_codec string_codec{
    [](json_cursor& c, void* v) { return c.read_string(*static_cast<std::string*>(v)); },
    [](std::string& out, const void* v) { write_json_string(out, *static_cast<const std::string*>(v)); }};

}  // namespace

// In the order of json_scalar.
const json_codec json_scalar_codecs[static_cast<std::size_t>(json_scalar::count)] = {
    bool_codec,
    integer_codec<char>,
    integer_codec<signed char>,
    integer_codec<unsigned char>,
    integer_codec<short>,
    integer_codec<unsigned short>,
    integer_codec<int>,
    integer_codec<unsigned>,
    integer_codec<long>,
    integer_codec<unsigned long>,
    integer_codec<long long>,
    integer_codec<unsigned long long>,
    floating_codec<float>,
    floating_codec<double>,
    floating_codec<long double>,
    string_codec,
};

bool read_fields(json_cursor& c, void* object, const json_fields_info& fields) {
  auto* base = static_cast<char*>(object);
  std::uint64_t seen = 0;  // INTERLOCK_JSON takes at most 64 fields
  std::size_t next = 0;    // keys usually come in the order they were written
  std::string scratch;
  if (!c.consume('{')) return c.fail("expected an object");
  if (!c.consume('}')) {
    do {
      std::string_view key;
      if (!c.read_key(key, scratch)) return false;
      if (!c.consume(':')) return c.fail("expected ':' after key '" + std::string{key} + "'");
      auto index = next < fields.size() && fields[next].name == key ? next : fields.size();
      for (std::size_t i = 0; index == fields.size() && i < fields.size(); ++i)
        if (fields[i].name == key) index = i;
      bool ok = true;
      if (index == fields.size()) {
        ok = c.skip_value();
      } else {
        seen |= std::uint64_t{1} << index;
        next = index + 1;
        ok = fields[index].codec->read(c, base + fields[index].offset);
      }
      if (!ok) return c.fail_in_field(key);
    } while (c.consume(','));
    if (!c.consume('}')) return c.fail("expected ',' or '}' in an object");
  }
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (!(seen & (std::uint64_t{1} << i))) return c.fail(std::string{"missing field '"}.append(fields[i].name) + "'");
  return true;
}

void write_fields(std::string& out, const void* object, const json_fields_info& fields) {
  auto* base = static_cast<const char*>(object);
  out += '{';
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::string_view key = fields[i].key;
    out += i == 0 ? key.substr(1) : key;
    fields[i].codec->write(out, base + fields[i].offset);
  }
  out += '}';
}

}  // namespace interlock::detail
