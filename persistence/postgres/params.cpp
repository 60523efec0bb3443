#include <interlock/persistence/postgres/params.hpp>

namespace interlock::postgres {

params& params::text(std::string_view value) {
  values_.emplace_back(value);
  nulls_.push_back(false);
  return *this;
}

params& params::int64(std::int64_t value) { return text(std::to_string(value)); }

params& params::null() {
  values_.emplace_back();
  nulls_.push_back(true);
  return *this;
}

// Taken only once the values are all in: a growing vector moves its strings,
// and a short string's characters move with it.
std::vector<const char*> params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) out.push_back(nulls_[i] ? nullptr : values_[i].c_str());
  return out;
}

void array_literal::separate() {
  if (count_++ > 0) text_ += ',';
}

array_literal& array_literal::add(std::string_view element) {
  separate();
  text_.reserve(text_.size() + element.size() + 2);
  text_ += '"';
  for (char c : element) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
  return *this;
}

array_literal& array_literal::add(std::int64_t element) {
  separate();
  text_ += std::to_string(element);
  return *this;
}

array_literal& array_literal::add_null() {
  separate();
  text_ += "NULL";
  return *this;
}

}  // namespace interlock::postgres
