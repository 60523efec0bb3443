// The web view's JSON API (`serve`, serve.cpp), apart from HTTP so that it is
// tested without a server. It never changes an event: it opens the journal as
// every console command does (console::open_journal, which, as any open, may
// bring the journal's stream index up to date) plus a read-only SQLite
// connection for the listing and the search.
//
//   GET /api/streams                       every stream (type, id, events, version, first/last position and time);
//                                          reads every event
//   GET /api/stream?type=T&id=I[&from=V][&limit=N]
//                                          its events from version V (default 1), at most N (default and most
//                                          500), each with the aggregate's state after it and the changes it made
//   GET /api/search?q=TEXT                 streams whose id starts with TEXT, events whose command,
//                                          correlation or causation id is TEXT
//
// Errors are values: the status and {"error": "..."} naming what was wrong
// (400 a bad or missing parameter, 404 an unknown path or stream, 500 a
// failure to read the journal). A stream whose type is not registered, has no
// JSON view of its state or does not fold (a damaged event) is still shown,
// its events without states, and "state_view" says why. A payload that is not
// JSON is shown as its text, "payload_note" saying so. Whatever a damaged
// journal holds in a column is passed on as it is (the page escapes it all);
// text that is not UTF-8 is replaced when the answer is written (text()).
// Calls may come from several threads: one at a time holds the connections
// (a mutex).
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
  /// The body as JSON text, invalid UTF-8 replaced (U+FFFD), never a throw.
  std::string text() const;
};

class web_api {
 public:
  /// Opens the journal; a failure naming the file if it does not open.
  explicit web_api(const console& c);

  /// Answers GET `path` with the query parameters `query`.
  web_response get(const std::string& path, const std::map<std::string, std::string>& query) const;

  static constexpr std::uint64_t default_limit = 500;
  static constexpr std::uint64_t max_limit = 500;  // more: 400

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
