// The web view's JSON API (`serve`, serve.cpp), apart from HTTP so that it is
// tested without a server. Read-only: it opens the journal as every console
// command does (console::open_journal) plus a read-only SQLite connection
// for the listing and the search, and writes nothing.
//
//   GET /api/streams                       every stream (type, id, events, version, first/last position and time)
//   GET /api/stream?type=T&id=I[&from=V][&limit=N]
//                                          its events from version V (default 1), at most N (default 500), each
//                                          with the aggregate's state after it and the changes it made
//   GET /api/search?q=TEXT                 streams whose id starts with TEXT, events whose command,
//                                          correlation or causation id is TEXT
//
// Errors are values: the status and {"error": "..."} naming what was wrong
// (400 a bad or missing parameter, 404 an unknown path or stream, 500 a
// stream that does not fold). A stream whose type is not registered or has no
// JSON view of its state is still listed, its events without states, and
// "state_view" says why. Calls may come from several threads: one at a time
// holds the connections (a mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "console.hpp"
#include "sql_file.hpp"

namespace interlock::debug::detail {

struct web_response {
  int status = 200;
  nlohmann::json body;
};

class web_api {
 public:
  /// Opens the journal; a failure naming the file if it does not open.
  explicit web_api(const console& c);

  /// Answers GET `path` with the query parameters `query`.
  web_response get(const std::string& path, const std::map<std::string, std::string>& query) const;

  static constexpr std::uint64_t default_limit = 500;

 private:
  web_response streams() const;
  web_response stream(const std::map<std::string, std::string>& query) const;
  web_response search(const std::map<std::string, std::string>& query) const;

  const console& c_;
  std::unique_ptr<journal> journal_;
  sql_file sql_;
  mutable std::mutex mutex_;
};

}  // namespace interlock::debug::detail
