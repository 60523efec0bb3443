#include <interlock/persistence/postgres/placeholders.hpp>

namespace interlock::postgres {
namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Each skip_* starts on the opening character and returns the index after
// the end (the text's end if it never ends: the server then says what is wrong).

std::size_t skip_quoted(std::string_view s, std::size_t i, char quote, bool backslash_escapes) {
  for (++i; i < s.size(); ++i) {
    if (backslash_escapes && s[i] == '\\') {
      ++i;
    } else if (s[i] == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) ++i;  // '' or "": the quote itself
      else return i + 1;
    }
  }
  return s.size();
}

std::size_t skip_block_comment(std::string_view s, std::size_t i) {
  int depth = 0;
  while (i + 1 < s.size()) {
    if (s[i] == '/' && s[i + 1] == '*') {
      ++depth;
      i += 2;
    } else if (s[i] == '*' && s[i + 1] == '/') {
      i += 2;
      if (--depth == 0) return i;
    } else {
      ++i;
    }
  }
  return s.size();
}

// $tag$ ... $tag$ (the tag may be empty); npos if s[i] starts no such quote
// ($1 is a parameter, not a quote).
std::size_t skip_dollar_quoted(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j < s.size() && is_digit(s[j])) return std::string_view::npos;
  while (j < s.size() && is_word_char(s[j])) ++j;
  if (j >= s.size() || s[j] != '$') return std::string_view::npos;
  const auto tag = s.substr(i, j - i + 1);
  const auto end = s.find(tag, j + 1);
  return end == std::string_view::npos ? s.size() : end + tag.size();
}

}  // namespace

numbered_sql number_placeholders(std::string_view s) {
  numbered_sql out;
  out.sql.reserve(s.size() + 8);
  int next = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    std::size_t end = i + 1;
    if (c == '\'') {
      const bool escapes = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i < 2 || !is_word_char(s[i - 2]));
      end = skip_quoted(s, i, '\'', escapes);
    } else if (c == '"') {
      end = skip_quoted(s, i, '"', false);
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      end = s.find('\n', i);
      if (end == std::string_view::npos) end = s.size();
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      end = skip_block_comment(s, i);
    } else if (c == '$' && (i == 0 || !is_word_char(s[i - 1]))) {
      if (auto q = skip_dollar_quoted(s, i); q != std::string_view::npos) end = q;
    } else if (c == '?') {
      std::size_t j = i + 1;
      while (j < s.size() && is_digit(s[j])) ++j;
      const int number = j > i + 1 ? std::stoi(std::string{s.substr(i + 1, j - i - 1)}) : ++next;
      if (j > i + 1) next = std::max(next, number);
      out.parameters = std::max(out.parameters, number);
      out.sql += '$';
      out.sql += std::to_string(number);
      i = j;
      continue;
    }
    out.sql.append(s.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace interlock::postgres
