#include "json_diff.hpp"

namespace interlock::debug::detail {

namespace {

using json = nlohmann::json;

// The unescaped tokens of a JSON pointer ("/a~1b/0" -> "a/b", "0").
std::vector<std::string> tokens_of(const std::string& pointer) {
  std::vector<std::string> out;
  std::size_t at = 1;
  while (at <= pointer.size() && !pointer.empty()) {
    auto end = pointer.find('/', at);
    auto token = pointer.substr(at, end == std::string::npos ? std::string::npos : end - at);
    for (std::size_t i = 0; (i = token.find('~', i)) != std::string::npos; ++i)
      token.replace(i, 2, token.compare(i, 2, "~1") == 0 ? "/" : "~");
    out.push_back(std::move(token));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return out;
}

// "tags[2]" for "/tags/2" in `doc` ("-", an array's end, as its size).
std::string readable(const std::string& pointer, const json& doc) {
  if (pointer.empty()) return "(the whole state)";
  std::string out;
  const json* node = &doc;
  for (const auto& token : tokens_of(pointer)) {
    if (node && node->is_array()) {
      out += "[" + (token == "-" ? std::to_string(node->size()) : token) + "]";
      node = token != "-" && std::stoul(token) < node->size() ? &(*node)[std::stoul(token)] : nullptr;
    } else {
      out += (out.empty() ? "" : ".") + token;
      node = node && node->is_object() && node->contains(token) ? &(*node)[token] : nullptr;
    }
  }
  return out;
}

// `pointer` with an array's end ("/-", where diff() adds) as the index it names in `doc`.
std::string resolved(const std::string& pointer, const json& doc) {
  if (!pointer.ends_with("/-")) return pointer;
  const auto parent = pointer.substr(0, pointer.size() - 2);
  return parent + "/" + std::to_string(doc.at(json::json_pointer{parent}).size());
}

std::string describe(const json& op, const json& doc) {
  const auto path = op["path"].get<std::string>();
  const auto kind = op["op"].get<std::string>();
  const auto where = readable(path, doc);
  const json::json_pointer ptr{path};
  if (kind == "replace") return where + ": " + doc.at(ptr).dump() + " -> " + op["value"].dump();
  if (kind == "add") return "+ " + where + ": " + op["value"].dump();
  if (kind == "remove") return "- " + where + ": " + doc.at(ptr).dump();
  return kind + " " + where;  // diff() makes no move, copy or test
}

}  // namespace

std::vector<change> changes_between(const json& before, const json& after) {
  std::vector<change> out;
  json doc = before;  // each operation is described on the state the ones before it left
  for (const auto& op : json::diff(before, after)) {
    out.push_back({op["op"].get<std::string>(), resolved(op["path"].get<std::string>(), doc), describe(op, doc)});
    doc = doc.patch(json::array({op}));
  }
  return out;
}

std::vector<std::string> describe_changes(const json& before, const json& after) {
  std::vector<std::string> lines;
  for (auto& c : changes_between(before, after)) lines.push_back(std::move(c.text));
  return lines;
}

}  // namespace interlock::debug::detail
