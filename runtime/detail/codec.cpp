#include <interlock/runtime/detail/codec.hpp>

namespace interlock::detail {

void check_json_object(std::string_view text) {
  json_cursor cursor{text};
  std::string_view raw;
  if (!cursor.raw_value(raw) || (!cursor.at_end() && !cursor.fail("unexpected text after the value")))
    throw std::invalid_argument(cursor.error());
  if (raw.empty() || raw.front() != '{') throw std::invalid_argument("expected a JSON object, got " + std::string{raw});
}

}  // namespace interlock::detail
