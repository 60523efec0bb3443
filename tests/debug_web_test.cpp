// The debug console's web view (`serve`, debug/serve.cpp): its JSON API
// against a journal the test writes (debug/web_api.hpp, exact JSON), the
// server over HTTP (read-only, errors, Host checked, a clean stop on
// SIGTERM), and the page loaded in a real headless Chromium, whose DOM must
// show the streams, a stream's events, the state after each with the change
// highlighted, and a search's results; and a journal damaged with raw SQL
// (hostile HTML in its columns, a payload that is not JSON, an id that is not
// UTF-8) shown as text, never failing a whole view.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <interlock/debug/web_api.hpp>

#include "process_runner.hpp"
#include "raw_db.hpp"
#include "test_support.hpp"
#include "web_domain.hpp"

extern char** environ;

namespace {

using nlohmann::json;
using testing_support::temp_dir;

// w1: opened (1), +10 (2), labelled vip (3, correlation conv-42), +5 (5), unlabelled (6);
// w2: opened (4, correlation conv-42); o1: pinged (7). Command ids c1..c7.
void write_journal(const std::string& path) {
  interlock::application_builder b;
  auto app = web::registered(b, path).build();
  REQUIRE(app);
  auto id = [](int n, std::string correlation = {}) {
    return interlock::dispatch_options{.command_id = "c" + std::to_string(n), .correlation_id = std::move(correlation)};
  };
  REQUIRE(app->dispatch("w1", web::Open{"Ann"}, id(1)));
  REQUIRE(app->dispatch("w1", web::Deposit{10}, id(2)));
  REQUIRE(app->dispatch("w1", web::Label{"vip", "yes"}, id(3, "conv-42")));
  REQUIRE(app->dispatch("w2", web::Open{"Bo"}, id(4, "conv-42")));
  REQUIRE(app->dispatch("w1", web::Deposit{5}, id(5)));
  REQUIRE(app->dispatch("w1", web::Unlabel{"vip"}, id(6)));
  REQUIRE(app->dispatch("o1", web::Ping{}, id(7)));
}

// `j` without its times (they are the commit's).
json timeless(json j) {
  if (j.is_object())
    for (const auto* key : {"recorded_at", "first_recorded_at", "last_recorded_at"}) j.erase(key);
  if (j.is_structured())
    for (auto& child : j) child = timeless(child);
  return j;
}

// The API of the console on `path`, with the web domain registered (without Opaque if `opaque` is false).
struct api_on {
  interlock::application_builder builder;
  std::ostringstream out, err;
  interlock::debug::detail::console console;
  interlock::debug::detail::web_api api;
  explicit api_on(const std::string& path, bool opaque = true)
      : console{register_types(builder, path, opaque), out, err, false}, api{console} {}
  static interlock::application_builder& register_types(interlock::application_builder& b, const std::string& path,
                                                        bool opaque) {
    return opaque ? web::registered(b, path) : b.aggregate<web::Wallet>().sqlite(path);
  }
  interlock::debug::detail::web_response get(const std::string& path, std::map<std::string, std::string> q = {}) {
    return api.get(path, q);
  }
};

json event(int position, int version, const std::string& type, const std::string& command, json correlation,
           json payload, json state, json changes) {
  return {{"position", position}, {"version", version}, {"type", type}, {"schema_version", 1},
          {"command_id", command}, {"correlation_id", correlation}, {"causation_id", nullptr},
          {"payload", payload}, {"state", state}, {"changes", changes}};
}

// A child process and the read end of its stdout: killed (if still running)
// and reaped, and the pipe closed, when destroyed, also when the constructor
// of the server holding it fails after the spawn (a REQUIRE throws).
struct child {
  pid_t pid = -1;
  int out = -1;  // its stdout, open until it is gone (it prints "stopped" when it stops)
  child() = default;
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out >= 0) ::close(out);
  }
};

// A console serving the web view of a journal (by default
// tests/programs/web_console.cpp `JOURNAL serve --port 0`), and the address it
// prints. Killed if still running when destroyed.
struct server {
  child proc;           // owns the pid and the pipe before anything can fail
  std::string printed;  // its stdout up to the serving line
  std::string url;
  explicit server(const std::string& journal, std::vector<std::string> extra = {})
      : server(with(std::vector<std::string>{INTERLOCK_PROGRAM_web_console, journal, "serve", "--port", "0"},
                    std::move(extra))) {}
  explicit server(std::vector<std::string> args) {
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    proc.out = pipe_fds[0];
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    const int spawned = ::posix_spawn(&proc.pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (spawned != 0) proc.pid = -1;
    REQUIRE(spawned == 0);
    printed = read_serving_line(proc.out);
    url = url_in(printed);
  }
  static std::vector<std::string> with(std::vector<std::string> args, std::vector<std::string> extra) {
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // What the server prints up to its serving line, within 30 s.
  static std::string read_serving_line(int fd) {
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (text.find("(Ctrl-C stops)") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
  }
  // The first "http://..." word in `text`.
  static std::string url_in(const std::string& text) {
    auto at = text.find("http://");
    INFO("the server printed: " << text);
    REQUIRE(at != std::string::npos);
    return text.substr(at, text.find_first_of(" \n", at) - at);
  }
  // SIGTERM, then its exit status (-1 if it did not exit within 10 s).
  int stop() {
    ::kill(proc.pid, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (::waitpid(proc.pid, &status, WNOHANG) == proc.pid) {
        proc.pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
};

// The DOM headless Chromium makes of `url` once its scripts have run (at most 5 s of virtual time).
std::string dom_of(const std::string& url, const temp_dir& dir) {
  auto run = testing_support::run_program(
      "timeout -k 5 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
      "--user-data-dir=" + dir.file("chromium-profile") + " --virtual-time-budget=5000 --dump-dom '" + url + "' 2>" +
      dir.file("chromium.log"));
  INFO("chromium's log: " << dir.file("chromium.log"));
  REQUIRE(run.exit_code == 0);
  std::string dom;
  for (auto& line : run.lines) dom += line + "\n";
  return dom;
}

// The table row of the event at `position` in `dom`.
std::string row_of(const std::string& dom, int position) {
  auto at = dom.find("<tr id=\"event-" + std::to_string(position) + "\"");
  if (at == std::string::npos) return "";
  return dom.substr(at, dom.find("</tr>", at) - at);
}

bool have_chromium() { return std::system("command -v chromium > /dev/null 2>&1") == 0; }
constexpr const char* chromium_missing =
    "the web view's tests need Debian's chromium on PATH, and it is not there: install it with "
    "`sudo apt-get install chromium` (or scripts/setup-debian.sh --tests, which installs what the tests use)";

}  // namespace

TEST_CASE("debug web API: the streams, a stream's events with the state after each, a search", "[debug][web]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  api_on on{path};

  auto streams = on.get("/api/streams");
  CHECK(streams.status == 200);
  CHECK(timeless(streams.body) == json::parse(R"({"journal":")" + path + R"(","streams_truncated":false,"streams":[
      {"stream":"Opaque/o1","type":"Opaque","id":"o1","events":1,"version":1,"first_position":7,"last_position":7},
      {"stream":"Wallet/w1","type":"Wallet","id":"w1","events":5,"version":5,"first_position":1,"last_position":6},
      {"stream":"Wallet/w2","type":"Wallet","id":"w2","events":1,"version":1,"first_position":4,"last_position":4}]})"));
  CHECK(streams.body["streams"][0]["first_recorded_at"].get<std::string>().ends_with("Z"));

  auto w1 = on.get("/api/stream", {{"type", "Wallet"}, {"id", "w1"}});
  CHECK(w1.status == 200);
  const json s1 = json::parse(R"({"balance":0,"labels":{},"owner":"Ann"})");
  const json s2 = json::parse(R"({"balance":10,"labels":{},"owner":"Ann"})");
  const json s3 = json::parse(R"({"balance":10,"labels":{"vip":"yes"},"owner":"Ann"})");
  const json s5 = json::parse(R"({"balance":15,"labels":{"vip":"yes"},"owner":"Ann"})");
  const json s6 = json::parse(R"({"balance":15,"labels":{},"owner":"Ann"})");
  json expected{{"stream", "Wallet/w1"}, {"type", "Wallet"}, {"id", "w1"}, {"version", 5}, {"from", 1},
                {"state_view", nullptr}, {"next_from", nullptr}};
  expected["events"] = {
      event(1, 1, "Opened", "c1", "c1", {{"owner", "Ann"}}, s1,
            json::parse(R"([{"op":"replace","path":"/owner","text":"owner: \"\" -> \"Ann\""}])")),
      event(2, 2, "Deposited", "c2", "c2", {{"amount", 10}}, s2,
            json::parse(R"([{"op":"replace","path":"/balance","text":"balance: 0 -> 10"}])")),
      event(3, 3, "Labelled", "c3", "conv-42", {{"key", "vip"}, {"value", "yes"}}, s3,
            json::parse(R"([{"op":"add","path":"/labels/vip","text":"+ labels.vip: \"yes\""}])")),
      event(5, 4, "Deposited", "c5", "c5", {{"amount", 5}}, s5,
            json::parse(R"([{"op":"replace","path":"/balance","text":"balance: 10 -> 15"}])")),
      event(6, 5, "Unlabelled", "c6", "c6", {{"key", "vip"}}, s6,
            json::parse(R"([{"op":"remove","path":"/labels/vip","text":"- labels.vip: \"yes\""}])"))};
  CHECK(timeless(w1.body) == expected);

  auto page = on.get("/api/stream", {{"type", "Wallet"}, {"id", "w1"}, {"from", "2"}, {"limit", "2"}});
  CHECK(page.status == 200);
  CHECK(page.body["next_from"] == 4);
  REQUIRE(page.body["events"].size() == 2);
  CHECK(timeless(page.body["events"][0]) == expected["events"][1]);
  CHECK(timeless(page.body["events"][1]) == expected["events"][2]);

  auto conversation = on.get("/api/search", {{"q", "conv-42"}});
  CHECK(conversation.status == 200);
  CHECK(timeless(conversation.body) == json::parse(R"({"query":"conv-42","streams":[],"streams_truncated":false,
      "events_truncated":false,"events":[
      {"position":3,"stream":"Wallet/w1","type":"Wallet","id":"w1","version":3,"event_type":"Labelled",
       "command_id":"c3","correlation_id":"conv-42","causation_id":null,"matched":["correlation_id"]},
      {"position":4,"stream":"Wallet/w2","type":"Wallet","id":"w2","version":1,"event_type":"Opened",
       "command_id":"c4","correlation_id":"conv-42","causation_id":null,"matched":["correlation_id"]}]})"));

  auto by_id = on.get("/api/search", {{"q", "w"}});
  CHECK(by_id.status == 200);
  CHECK(by_id.body["events"] == json::array());
  REQUIRE(by_id.body["streams"].size() == 2);
  CHECK(by_id.body["streams"][0]["stream"] == "Wallet/w1");
  CHECK(by_id.body["streams"][1]["stream"] == "Wallet/w2");
  auto command = on.get("/api/search", {{"q", "c5"}});
  REQUIRE(command.body["events"].size() == 1);
  CHECK(command.body["events"][0]["position"] == 5);
  CHECK(command.body["events"][0]["matched"] == json::parse(R"(["command_id","correlation_id"])"));
}

TEST_CASE("debug web API: errors are values, and a type without a JSON state view says so", "[debug][web]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  api_on on{path};

  auto nobody = on.get("/api/stream", {{"type", "Wallet"}, {"id", "nobody"}});
  CHECK(nobody.status == 404);
  CHECK(nobody.body == json{{"error", "no stream Wallet/nobody in journal '" + path + "'"}});
  auto no_id = on.get("/api/stream", {{"type", "Wallet"}});
  CHECK(no_id.status == 400);
  CHECK(no_id.body == json{{"error", "the parameter 'id' is missing"}});
  auto bad_from = on.get("/api/stream", {{"type", "Wallet"}, {"id", "w1"}, {"from", "x"}});
  CHECK(bad_from.status == 400);
  CHECK(bad_from.body == json{{"error", "the parameter 'from' must be a positive integer, not 'x'"}});
  CHECK(on.get("/api/search").status == 400);
  auto unknown = on.get("/api/nothing");
  CHECK(unknown.status == 404);
  CHECK(unknown.body == json{{"error", "no API at '/api/nothing' (there are /api/streams, /api/stream, /api/search)"}});

  auto opaque = on.get("/api/stream", {{"type", "Opaque"}, {"id", "o1"}});
  CHECK(opaque.status == 200);
  CHECK_THAT(opaque.body["state_view"].get<std::string>(),
             Catch::StartsWith("Opaque has no JSON view of its state: add INTERLOCK_JSON(Opaque"));
  REQUIRE(opaque.body["events"].size() == 1);
  CHECK(timeless(opaque.body["events"][0]) == event(7, 1, "Pinged", "c7", "c7", json::object(), nullptr, nullptr));

  api_on wallets_only{path, false};
  auto unregistered = wallets_only.get("/api/stream", {{"type", "Opaque"}, {"id", "o1"}});
  CHECK(unregistered.status == 200);
  CHECK(unregistered.body["state_view"] == "no aggregate type 'Opaque' is registered (registered: Wallet)");
  CHECK(unregistered.body["events"].size() == 1);
}

TEST_CASE("debug serve: the API and the page over HTTP, read-only, stopped by SIGTERM", "[debug][web]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  server s{path};
  CHECK(s.url.starts_with("http://127.0.0.1:"));
  httplib::Client http{s.url.substr(0, s.url.size() - 1)};
  http.set_connection_timeout(5);
  http.set_read_timeout(10);

  auto page = http.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK_THAT(page->body, Catch::Contains("<title>Interlock journal</title>"));
  auto streams = http.Get("/api/streams");
  REQUIRE(streams);
  CHECK(streams->status == 200);
  CHECK(json::parse(streams->body)["streams"].size() == 3);
  auto nobody = http.Get("/api/stream?type=Wallet&id=nobody");
  REQUIRE(nobody);
  CHECK(nobody->status == 404);
  CHECK(json::parse(nobody->body) == json{{"error", "no stream Wallet/nobody in journal '" + path + "'"}});
  auto post = http.Post("/api/streams", "{}", "application/json");
  REQUIRE(post);
  CHECK(post->status == 405);
  CHECK(json::parse(post->body) == json{{"error", "the web view is read-only: POST is not allowed (GET only)"}});
  auto elsewhere = http.Get("/admin");
  REQUIRE(elsewhere);
  CHECK(elsewhere->status == 404);

  CHECK(s.stop() == 0);
}

TEST_CASE("debug serve: headless Chromium shows the streams, the events, the states with the change, a search",
          "[debug][web]") {
  INFO(chromium_missing);
  REQUIRE(have_chromium());
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  server s{path};

  const auto dom = dom_of(s.url + "?type=Wallet&id=w1&q=conv-42", dir);
  INFO("the DOM: " << dom);
  CHECK_THAT(dom, Catch::Contains("<span id=\"journal\">" + path + "</span>"));
  for (const auto* id : {"w1", "w2", "o1"})  // the streams list
    CHECK_THAT(dom, Catch::Contains("stream-link\" href=\"?type=" + std::string{id[0] == 'o' ? "Opaque" : "Wallet"} +
                                    "&amp;id=" + id + "&amp;q=conv-42\">" + id + "</a>"));
  CHECK_THAT(dom, Catch::Contains("<h2>Wallet/w1 <small>version 5</small></h2>"));
  for (int position : {1, 2, 3, 5, 6}) CHECK_FALSE(row_of(dom, position).empty());  // the stream's events
  CHECK(row_of(dom, 4).empty());

  const auto deposit = row_of(dom, 5);  // its state after, the changed field highlighted
  CHECK_THAT(deposit, Catch::Contains("<td>Deposited</td>"));
  CHECK_THAT(deposit, Catch::Contains("<pre class=\"payload\">{\n  \"amount\": 5\n}</pre>"));
  CHECK_THAT(deposit, Catch::Contains("<span class=\"changed\" data-path=\"/balance\">\"balance\": 15</span>"));
  CHECK_THAT(deposit, Catch::Contains("<div class=\"changed\">balance: 10 -&gt; 15</div>"));
  CHECK_THAT(row_of(dom, 3), Catch::Contains("<span class=\"added\" data-path=\"/labels/vip\">\"vip\": \"yes\"</span>"));
  CHECK_THAT(row_of(dom, 6), Catch::Contains("<div class=\"removed\">- labels.vip: \"yes\"</div>"));
  CHECK_THAT(row_of(dom, 6), Catch::Contains("\"labels\": {}"));

  CHECK_THAT(dom, Catch::Contains("<h2>Search: conv-42</h2>"));  // the search's results
  CHECK_THAT(dom, Catch::Contains("<td class=\"num\">3</td><td><a class=\"nav stream-link\" "
                                  "href=\"?type=Wallet&amp;id=w1&amp;q=conv-42&amp;position=3\">Wallet/w1</a></td>"));
  CHECK_THAT(dom, Catch::Contains("href=\"?type=Wallet&amp;id=w2&amp;q=conv-42&amp;position=4\">Wallet/w2</a>"));

  const auto missing = dom_of(s.url + "?type=Wallet&id=nobody&q=c5", dir);  // an error, and a search by command id
  INFO("the DOM: " << missing);
  CHECK_THAT(missing, Catch::Contains("class=\"error\">no stream Wallet/nobody in journal '" + path + "'</div>"));
  CHECK_THAT(missing, Catch::Contains("<td>Deposited</td><td>command_id, correlation_id</td>"));

  CHECK(s.stop() == 0);
}

#ifdef INTERLOCK_SAMPLE_BANKING
TEST_CASE("debug serve: the banking sample's `debug serve`", "[debug][web]") {
  temp_dir dir;
  const auto db = dir.file("bank.db");
  const std::string banking = INTERLOCK_SAMPLE_BANKING;
  REQUIRE(testing_support::run_program(banking + " --db " + db + " > /dev/null").exit_code == 0);
  server s{{banking, "--db", db, "debug", "serve", "--port", "0"}};
  httplib::Client http{s.url.substr(0, s.url.size() - 1)};
  http.set_connection_timeout(5);
  http.set_read_timeout(10);

  auto streams = http.Get("/api/streams");
  REQUIRE(streams);
  CHECK(streams->status == 200);
  auto list = json::parse(streams->body)["streams"];
  REQUIRE(list.size() == 3);
  auto alice = testing_support::raw_db{db}.rows("SELECT aggregate_id FROM streams ORDER BY first_position LIMIT 1");
  REQUIRE(alice.size() == 1);
  auto stream = http.Get("/api/stream?type=BankAccount&id=" + alice[0]);
  REQUIRE(stream);
  CHECK(stream->status == 200);
  auto events = json::parse(stream->body)["events"];
  REQUIRE(events.size() == 4);
  CHECK(events[3]["state"] == json::parse(R"({"owner_name":"Alice","balance":198456,"opened":true,"closed":false})"));
  CHECK(events[3]["changes"] ==
        json::parse(R"([{"op":"replace","path":"/balance","text":"balance: 75000 -> 198456"}])"));
  CHECK(s.stop() == 0);
}
#endif

namespace {

// Hostile text, as a journal's columns can hold it: an element that marks the
// page if it is ever created (data-pwned on the body).
std::string hostile(int n) { return "<img src=x onerror=document.body.dataset.pwned=" + std::to_string(n) + ">"; }

// write_journal's journal damaged with raw SQL, as a hostile or careless hand
// could: w1's event 2 (Deposited) has a payload that is not JSON, w2's id and
// its event's version (an INTEGER column) are hostile text, w1's event 3 has a
// recorded_at that is text, and o1's id is not UTF-8 ("o\xFF").
void damage(const std::string& path) {
  testing_support::raw_db db{path};
  db.exec("UPDATE events SET payload = '" + hostile(1) + "' WHERE global_position = 2");
  db.exec("UPDATE events SET version = '" + hostile(2) + "' WHERE global_position = 4");
  db.exec("UPDATE streams SET aggregate_id = '" + hostile(3) + "' WHERE aggregate_id = 'w2'");
  db.exec("UPDATE events SET recorded_at = '<b>noon</b>' WHERE global_position = 3");
  db.exec("UPDATE streams SET aggregate_id = CAST(X'6FFF' AS TEXT) WHERE aggregate_id = 'o1'");
}

}  // namespace

TEST_CASE("debug web API: a limit above 500 is refused, naming the parameter", "[debug][web]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  api_on on{path};
  auto too_many = on.get("/api/stream", {{"type", "Wallet"}, {"id", "w1"}, {"limit", "501"}});
  CHECK(too_many.status == 400);
  CHECK(too_many.body == json{{"error", "the parameter 'limit' must be at most 500, not '501'"}});
  auto most = on.get("/api/stream", {{"type", "Wallet"}, {"id", "w1"}, {"limit", "500"}});
  CHECK(most.status == 200);
  CHECK(most.body["events"].size() == 5);
  // A page from version 4: the changes of its first event are against the state at version 3.
  auto late = on.get("/api/stream", {{"type", "Wallet"}, {"id", "w1"}, {"from", "4"}});
  REQUIRE(late.body["events"].size() == 2);
  CHECK(late.body["events"][0]["changes"] ==
        json::parse(R"([{"op":"replace","path":"/balance","text":"balance: 10 -> 15"}])"));
}

TEST_CASE("debug web API: a damaged journal is still shown: raw payloads, text in number columns, not UTF-8",
          "[debug][web]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  damage(path);
  api_on on{path};

  auto streams = on.get("/api/streams");  // every column as it is; the page escapes it
  REQUIRE(streams.status == 200);
  const auto text = streams.text();  // not UTF-8: replaced, not thrown
  CHECK_THAT(text, Catch::Contains("\"id\":\"o\xEF\xBF\xBD\""));
  auto list = json::parse(text)["streams"];
  REQUIRE(list.size() == 3);
  CHECK(list[0]["stream"] == "Opaque/o\xEF\xBF\xBD");
  CHECK(list[1]["stream"] == "Wallet/" + hostile(3));
  CHECK(list[1]["version"] == hostile(2));
  CHECK(list[2]["stream"] == "Wallet/w1");
  CHECK(list[2]["last_recorded_at"] == "<b>noon</b>");

  // A stream that does not fold: its events without states, the bad payload as its text.
  auto w1 = on.get("/api/stream", {{"type", "Wallet"}, {"id", "w1"}});
  CHECK(w1.status == 200);
  CHECK_THAT(w1.body["state_view"].get<std::string>(),
             Catch::StartsWith("the stream does not fold, so its events are shown without states: "));
  REQUIRE(w1.body["events"].size() == 5);
  CHECK(w1.body["events"][1]["payload"] == hostile(1));
  CHECK(w1.body["events"][1]["payload_note"] == "the payload is not JSON: shown as stored");
  CHECK(w1.body["events"][1]["state"] == nullptr);
  CHECK(w1.body["events"][0]["payload"] == json{{"owner", "Ann"}});
  CHECK_FALSE(w1.body["events"][0].contains("payload_note"));

  // The journal refuses to read a stream by an id that is not UTF-8: an error, itself written as valid JSON.
  auto o1 = on.get("/api/stream", {{"type", "Opaque"}, {"id", "o\xFF"}});
  CHECK(o1.status == 500);
  CHECK(json::parse(o1.text())["error"] ==
        "reading Opaque/o\xEF\xBF\xBD: aggregate_id is not valid UTF-8 (byte 0xff at offset 1) (aggregate_type 'Opaque')");

  auto search = on.get("/api/search", {{"q", "o\xFF"}});  // the query itself is not UTF-8
  CHECK(search.status == 200);
  auto found = json::parse(search.text());
  CHECK(found["query"] == "o\xEF\xBF\xBD");
  REQUIRE(found["streams"].size() == 1);
  CHECK(found["streams"][0]["type"] == "Opaque");
  auto c4 = on.get("/api/search", {{"q", "c4"}});
  REQUIRE(c4.body["events"].size() == 1);
  CHECK(c4.body["events"][0]["id"] == hostile(3));
  CHECK(c4.body["events"][0]["version"] == hostile(2));
}

TEST_CASE("debug serve: a damaged journal over HTTP, and a Host that is not this machine's is refused (403)",
          "[debug][web]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  damage(path);
  server s{path};
  CHECK(s.printed.find("warning") == std::string::npos);
  httplib::Client http{s.url.substr(0, s.url.size() - 1)};
  http.set_connection_timeout(5);
  http.set_read_timeout(10);

  auto streams = http.Get("/api/streams");  // one id not UTF-8: still the list
  REQUIRE(streams);
  CHECK(streams->status == 200);
  CHECK(json::parse(streams->body)["streams"].size() == 3);
  auto search = http.Get("/api/search?q=%FF");
  REQUIRE(search);
  CHECK(search->status == 200);
  CHECK(json::parse(search->body)["query"] == "\xEF\xBF\xBD");
  auto w1 = http.Get("/api/stream?type=Wallet&id=w1");
  REQUIRE(w1);
  CHECK(w1->status == 200);
  CHECK(json::parse(w1->body)["events"][1]["payload"] == hostile(1));

  const auto port = s.url.substr(s.url.rfind(':') + 1, s.url.size() - s.url.rfind(':') - 2);
  for (const std::string& host : std::vector<std::string>{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example", "localhost.:80"}) {
    INFO("Host: " << host);
    for (const auto* target : {"/", "/api/streams"}) {
      auto refused = http.Get(target, {{"Host", host}});
      REQUIRE(refused);
      CHECK(refused->status == 403);
      CHECK(json::parse(refused->body) ==
            json{{"error", "the web view answers only requests to 127.0.0.1, localhost or [::1], not to Host '" + host +
                               "' (serve --bind ADDR to listen elsewhere)"}});
    }
  }
  for (const std::string& host : std::vector<std::string>{"localhost:" + port, "LOCALHOST", "127.0.0.1", "[::1]:" + port, "[::1]"}) {
    INFO("Host: " << host);
    auto answered = http.Get("/api/streams", {{"Host", host}});
    REQUIRE(answered);
    CHECK(answered->status == 200);
  }
  CHECK(s.stop() == 0);
}

TEST_CASE("debug serve: --bind to an address that is not loopback warns, and answers any Host", "[debug][web]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  server s{path, {"--bind", "0.0.0.0"}};
  CHECK_THAT(s.printed, Catch::Contains("warning: --bind 0.0.0.0 is not this machine only: whoever can reach that "
                                        "address can read the journal's contents (every event, payload and state)"));
  CHECK(s.url.starts_with("http://0.0.0.0:"));
  httplib::Client http{"http://127.0.0.1:" + s.url.substr(s.url.rfind(':') + 1, s.url.size() - s.url.rfind(':') - 2)};
  http.set_connection_timeout(5);
  http.set_read_timeout(10);
  auto answered = http.Get("/api/streams", {{"Host", "journal.example:8080"}});
  REQUIRE(answered);
  CHECK(answered->status == 200);
  CHECK(s.stop() == 0);
}

TEST_CASE("debug serve: headless Chromium shows a hostile journal's text as text, never as HTML", "[debug][web]") {
  INFO(chromium_missing);
  REQUIRE(have_chromium());
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  damage(path);
  server s{path};

  // The streams (w2's id and version hostile), w1's events (a hostile payload), a search finding w2's event.
  const auto dom = dom_of(s.url + "?type=Wallet&id=w1&q=c4", dir);
  INFO("the DOM: " << dom);
  CHECK_THAT(dom, Catch::Contains("data-loaded=\"yes\""));  // the scripts ran to their end
  CHECK_THAT(dom, !Catch::Contains("<img"));                 // no element was made of the text
  CHECK_THAT(dom, !Catch::Contains("data-pwned"));
  const auto escaped = [](int n) { return "&lt;img src=x onerror=document.body.dataset.pwned=" + std::to_string(n) + "&gt;"; };
  CHECK_THAT(dom, Catch::Contains("<td class=\"num\">" + escaped(2) + "</td>"));  // w2's version, in the list
  CHECK_THAT(dom, Catch::Contains(">" + escaped(3) + "</a>"));                      // w2's id
  CHECK_THAT(dom, Catch::Contains("<pre class=\"payload\">\"" + escaped(1) + "\"</pre>"));
  CHECK_THAT(dom, Catch::Contains("<div class=\"note payload-note\">the payload is not JSON: shown as stored</div>"));
  CHECK_THAT(dom, Catch::Contains("the stream does not fold, so its events are shown without states"));
  CHECK_THAT(dom, Catch::Contains(">Wallet/" + escaped(3) + "</a>"));  // the search's event, in w2
  CHECK(s.stop() == 0);
}

TEST_CASE("debug serve: a stop waits for a request under way, a second signal ends it at once (status 130)",
          "[debug][web]") {
  temp_dir dir;
  const auto path = dir.file("j.db");
  write_journal(path);
  server s{path};
  const auto port = std::stoi(s.url.substr(s.url.rfind(':') + 1));
  // A request whose headers never end: its worker waits for them (seconds), and so does a stop.
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(sock >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string partial = "GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  REQUIRE(::write(sock, partial.data(), partial.size()) == static_cast<ssize_t>(partial.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  ::kill(s.proc.pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int status = 0;
  CHECK(::waitpid(s.proc.pid, &status, WNOHANG) == 0);  // still waiting for the request
  ::kill(s.proc.pid, SIGINT);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  pid_t ended = 0;
  while (ended == 0 && std::chrono::steady_clock::now() < deadline) {
    ended = ::waitpid(s.proc.pid, &status, WNOHANG);
    if (ended == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::close(sock);
  REQUIRE(ended == s.proc.pid);
  s.proc.pid = -1;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
}
