// Valid text only: strings that are not valid UTF-8 are refused where they
// enter (an emitted event, a stored result or snapshot, an id at dispatch, a
// request to the journal) with invalid_argument naming the field, and nothing
// is stored; valid multi-byte text round-trips exactly.
#include <catch2/catch.hpp>

#include <interlock/core/detail/utf8.hpp>
#include <interlock/persistence/sqlite_journal.hpp>
#include <interlock/runtime/detail/codec.hpp>
#include <interlock/runtime/interlock.hpp>
#include <interlock/runtime/nlohmann_json.hpp>

#include "journal_test_support.hpp"
#include "test_support.hpp"

namespace vt {

struct Line {
  std::string sku;
  int quantity = 0;
};
INTERLOCK_JSON(Line, sku, quantity)

struct Money {  // only nlohmann: reached through the fallback
  std::int64_t cents = 0;
  std::string currency;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Money, cents, currency)

struct Write {
  using result_type = void;
  std::string memo;
  std::vector<Line> lines{};
  std::map<std::string, std::string> tags{};
  Money price{};
};
struct Written {
  std::string memo;
  std::vector<Line> lines{};
  std::map<std::string, std::string> tags{};
  Money price{};
};
INTERLOCK_JSON(Write, memo, lines, tags, price)
INTERLOCK_JSON(Written, memo, lines, tags, price)

struct Note {  // emits Noted{text}, then another Noted
  using result_type = void;
  std::string text;
};
struct Noted {  // plain nlohmann: the slower path
  std::string text;
};
INTERLOCK_JSON(Note, text)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Noted, text)

struct Echo {  // its result is the text: stored when the command is idempotent
  using result_type = std::string;
  std::string text;
};
INTERLOCK_JSON(Echo, text)

struct Read {  // the memos so far
  using result_type = std::vector<std::string>;
};

struct Notebook : interlock::aggregate<Notebook> {
  using commands = interlock::types<Write, Note, Echo, Read>;
  using events = interlock::types<Written, Noted>;

  std::vector<std::string> memos;

  void handle(const Write& c) { emit(Written{c.memo, c.lines, c.tags, c.price}); }
  void handle(const Note& c) {
    emit(Noted{c.text});
    emit(Noted{"and more"});
  }
  std::string handle(const Echo& c) {
    emit(Noted{"echo"});
    return c.text;
  }
  std::vector<std::string> handle(const Read&) const { return memos; }
  void apply(const Written& e) { memos.push_back(e.memo); }
  void apply(const Noted& e) { memos.push_back(e.text); }
};

struct Clip {
  using result_type = void;
  std::string text;
};
struct Clipped {
  std::string text;
};
INTERLOCK_JSON(Clip, text)
INTERLOCK_JSON(Clipped, text)

// Keeps the first byte of each text: its state can cut a character in two,
// and it snapshots after every event.
struct Clipper : interlock::aggregate<Clipper> {
  static constexpr std::uint64_t snapshot_every = 1;
  using commands = interlock::types<Clip>;
  using events = interlock::types<Clipped>;

  std::string preview;

  void handle(const Clip& c) { emit(Clipped{c.text}); }
  void apply(const Clipped& e) { preview = e.text.substr(0, 1); }
};
INTERLOCK_JSON(Clipper, preview)

struct Misnamed : interlock::aggregate<Misnamed> {  // a pinned name the journal could not store
  static constexpr std::string_view type_name = "Misnamed\xff";
  using commands = interlock::types<Clip>;
  using events = interlock::types<Clipped>;
  void handle(const Clip& c) { emit(Clipped{c.text}); }
  void apply(const Clipped&) {}
};

}  // namespace vt

using namespace vt;
using interlock::errc;
using testing_support::actor_env;
using testing_support::temp_dir;

namespace {

constexpr auto npos = std::string_view::npos;

std::size_t error_at(std::string_view s) { return interlock::detail::utf8_error_at(s); }

caf::expected<interlock::application> start(caf::actor_system& sys, const std::string& db) {
  return interlock::application_builder{sys}.aggregate<Notebook>().aggregate<Clipper>().sqlite(db).build();
}

std::vector<interlock::stored_event> stored(const std::string& db) {
  auto j = interlock::open_sqlite_journal({db});
  REQUIRE(j);
  auto all = (*j)->read_all(1, 1000);
  REQUIRE(all);
  return *all;
}

void check_refused(const caf::error& err, const std::string& message) {
  INFO(interlock::describe(err));
  CHECK(interlock::is(err, errc::invalid_argument));
  CHECK(interlock::message_of(err) == message);
}

}  // namespace

TEST_CASE("utf8: well-formed text passes, the first bad byte is found", "[utf8]") {
  for (std::string_view ok : {"", "plain ASCII that is longer than one word of eight", "Zo\xc3\xab",
                              "\xf0\x9f\x98\x80", "\xe4\xb8\xad\xe6\x96\x87", "\xed\x9f\xbf", "\xee\x80\x80",
                              "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\x7f"}) {
    INFO(std::string{ok});
    CHECK(error_at(ok) == npos);
  }
  struct bad {
    std::string_view text;
    std::size_t at;
  };
  for (auto [text, at] : {bad{"abc\xff", 3}, bad{"\x80", 0},                       // stray bytes
                          bad{"\xc0\x80", 0}, bad{"\xc1\xbf", 0},                  // overlong, 2 bytes
                          bad{"\xe0\x80\x80", 0}, bad{"\xe0\x9f\xbf", 0},          // overlong, 3 bytes
                          bad{"\xf0\x80\x80\x80", 0}, bad{"\xf0\x8f\xbf\xbf", 0},  // overlong, 4 bytes
                          bad{"x\xed\xa0\x80", 1}, bad{"\xed\xbf\xbf", 0},         // surrogates
                          bad{"\xf4\x90\x80\x80", 0}, bad{"\xf5\x80\x80\x80", 0},  // above U+10FFFF
                          bad{"ab\xe2\x82", 2}, bad{"ab\xe2\x82z", 2},             // cut short
                          bad{"\xf0\x9f\x98", 0}, bad{"Zo\xc3", 2}, bad{"\xc3\xab\xab", 2}}) {
    INFO(std::string{text});
    CHECK(error_at(text) == at);
  }
  // At every offset of a long text, both through the 8-byte path and past it,
  // with valid multi-byte characters before it.
  for (std::size_t i = 0; i < 40; ++i) {
    std::string text = std::string(i, 'a') + "\xff" + std::string(20, 'b');
    CHECK(error_at(text) == i);
    std::string after_multibyte = "\xc3\xab" + std::string(i, 'a') + "\xe2\x82" + "abcdefghij";
    CHECK(error_at(after_multibyte) == i + 2);
  }
  CHECK(interlock::detail::describe_utf8_error('\xff', 3) == "byte 0xff at offset 3");
}

TEST_CASE("utf8: identifiers are 1 to 1024 bytes of UTF-8 without NUL", "[utf8]") {
  using interlock::detail::identifier_problem;
  CHECK(identifier_problem("aggregate_id", "01J0ZZZZZZZZZZZZZZZZZZZZZZ").empty());
  CHECK(identifier_problem("aggregate_id", "Zo\xc3\xab-\xf0\x9f\x98\x80-\xe4\xb8\xad").empty());
  CHECK(identifier_problem("aggregate_id", std::string(1024, 'a')).empty());
  CHECK(identifier_problem("aggregate_id", std::string(1025, 'a')) ==
        "aggregate_id is 1025 bytes long; at most 1024 are allowed");
  CHECK(identifier_problem("aggregate_id", "") == "aggregate_id is empty");
  CHECK(identifier_problem("causation_id", "", true).empty());
  CHECK(identifier_problem("aggregate_id", "ab\xff") == "aggregate_id is not valid UTF-8 (byte 0xff at offset 2)");
  CHECK(identifier_problem("aggregate_id", std::string{"a\0b", 3}) == "aggregate_id holds a NUL byte at offset 1");
}

TEST_CASE("json text: a string that is not UTF-8 is named by its field", "[utf8]") {
  auto refused = [](const auto& value) {
    auto text = interlock::detail::encode_text(value, [] { return std::string{"event Written"}; });
    REQUIRE_FALSE(text);
    CHECK(interlock::is(text.error(), errc::invalid_argument));
    return interlock::message_of(text.error());
  };
  CHECK(refused(Written{"abc\xff"}) == "event Written: field 'memo' is not valid UTF-8 (byte 0xff at offset 3)");
  // Escapes before the bad byte count as the one byte they stand for.
  CHECK(refused(Written{"a\"\n\x01\xc3"}) == "event Written: field 'memo' is not valid UTF-8 (byte 0xc3 at offset 4)");
  CHECK(refused(Written{"ok", {{"a", 1}, {"b\xed\xa0\x80", 2}}}) ==
        "event Written: field 'lines[1].sku' is not valid UTF-8 (byte 0xed at offset 1)");
  CHECK(refused(Written{"ok", {}, {{"colour", "gr\xc3\xbcn\xc0\x80"}}}) ==
        "event Written: field 'tags.colour' is not valid UTF-8 (byte 0xc0 at offset 5)");
  CHECK(refused(Written{"ok", {}, {{"k\xff", "v"}}}) ==
        "event Written: a key in field 'tags' is not valid UTF-8 (byte 0xff at offset 1)");
  CHECK(refused(Written{"ok", {}, {}, Money{1, "\xe2\x82"}}) ==
        "event Written: field 'price.currency' is not valid UTF-8 (byte 0xe2 at offset 0)");
  CHECK(refused(Noted{"x\xf0\x9f\x98"}) == "event Written: field 'text' is not valid UTF-8 (byte 0xf0 at offset 1)");
  CHECK(refused(std::string{"\xff"}) == "event Written: the string is not valid UTF-8 (byte 0xff at offset 0)");

  // Valid text is written as before: raw UTF-8, not escaped.
  auto ok = interlock::detail::encode_text(Written{"Zo\xc3\xab \xf0\x9f\x98\x80", {}, {}, Money{1, "\xe2\x82\xac"}},
                                           [] { return std::string{}; });
  REQUIRE(ok);
  CHECK(*ok == interlock::detail::encode_json(Written{"Zo\xc3\xab \xf0\x9f\x98\x80", {}, {}, Money{1, "\xe2\x82\xac"}}));
  CHECK(ok->find("Zo\xc3\xab \xf0\x9f\x98\x80") != std::string::npos);
}

TEST_CASE("valid text: an event with a string that is not UTF-8 is refused and nothing is stored", "[utf8]") {
  temp_dir dir;
  const auto db = dir.file("notes.db");
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);
  REQUIRE(app->dispatch("n", Write{"first"}));

  auto bad = app->dispatch("n", Write{"abc\xff"});
  REQUIRE_FALSE(bad);
  check_refused(bad.error(), "event Written: field 'memo' is not valid UTF-8 (byte 0xff at offset 3)");
  // The handler emitted a good event after the bad one: neither is stored.
  auto noted = app->dispatch("n", Note{"\xc3\x28"});
  REQUIRE_FALSE(noted);
  check_refused(noted.error(), "event Noted: field 'text' is not valid UTF-8 (byte 0xc3 at offset 0)");
  // A new aggregate whose first command is refused is not created.
  auto fresh = app->dispatch("m", Write{"\xed\xa0\x80"});
  REQUIRE_FALSE(fresh);
  check_refused(fresh.error(), "event Written: field 'memo' is not valid UTF-8 (byte 0xed at offset 0)");

  // The aggregate goes on from where it was.
  auto next = app->dispatch("n", Write{"second"});
  REQUIRE(next);
  CHECK(next->version == 2);
  CHECK(app->dispatch("n", Read{})->value == std::vector<std::string>{"first", "second"});
  app->stop();

  auto events = stored(db);
  REQUIRE(events.size() == 2);
  CHECK(events[0].stream_name() == "Notebook/n");
  CHECK(events[1].version == 2);
  CHECK(events[1].payload.find("\"memo\":\"second\"") != std::string::npos);
}

TEST_CASE("valid text: multi-byte UTF-8 round-trips exactly", "[utf8]") {
  temp_dir dir;
  const auto db = dir.file("notes.db");
  const std::string id = "Zo\xc3\xab-\xf0\x9f\x98\x80-\xe8\xb4\xa6\xe6\x88\xb7";  // Zoë-😀-账户
  const std::vector<std::string> memos{"Zo\xc3\xab", "\xf0\x9f\x98\x80\xf0\x9f\x8e\x89",
                                       "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", "\"quoted\"\n\ttab \xef\xbf\xbf"};
  {
    actor_env env;
    auto app = start(env.sys, db);
    REQUIRE(app);
    for (auto& m : memos)
      REQUIRE(app->dispatch(id, Write{m, {{m, 1}}, {{m, m}}, Money{1, "\xe2\x82\xac"}},
                            interlock::dispatch_options{.command_id = "c-" + m}));
  }
  auto events = stored(db);
  REQUIRE(events.size() == memos.size());
  for (std::size_t i = 0; i < memos.size(); ++i) {
    CHECK(events[i].aggregate_id == id);
    CHECK(events[i].command_id == "c-" + memos[i]);
    auto json = nlohmann::json::parse(events[i].payload);
    CHECK(json["memo"].get<std::string>() == memos[i]);
    CHECK(json["lines"][0]["sku"].get<std::string>() == memos[i]);
    CHECK(json["tags"][memos[i]].get<std::string>() == memos[i]);
    CHECK(json["price"]["currency"].get<std::string>() == "\xe2\x82\xac");
  }
  CHECK(events[0].payload.find("Zo\xc3\xab") != std::string::npos);  // stored as UTF-8, not as \u escapes

  actor_env env;  // recovered from the file
  auto app = start(env.sys, db);
  REQUIRE(app);
  auto read = app->dispatch(id, Read{});
  REQUIRE(read);
  CHECK(read->value == memos);
  auto at = app->load_as_of<Notebook>(id, interlock::as_of::version(1));
  REQUIRE(at);
  CHECK(at->state.memos == std::vector<std::string>{memos[0]});
}

TEST_CASE("valid text: a stored result or snapshot that is not UTF-8 refuses the command", "[utf8]") {
  temp_dir dir;
  const auto db = dir.file("notes.db");
  actor_env env;
  auto app = start(env.sys, db);
  REQUIRE(app);

  // An idempotent command's result is stored with its events.
  auto echo = app->dispatch("n", Echo{"x\xff"}, {.command_id = "echo-1"});
  REQUIRE_FALSE(echo);
  check_refused(echo.error(), "the result of command Echo: the string is not valid UTF-8 (byte 0xff at offset 1)");
  auto retried = app->dispatch("n", Echo{"x"}, {.command_id = "echo-1"});  // its id was not recorded
  REQUIRE(retried);
  CHECK(retried->value == "x");
  CHECK(retried->version == 1);
  CHECK(app->dispatch("n", Echo{"y\xff"}));  // not idempotent: the result is not stored

  // Clipper's state keeps the first byte of "ë": half a character.
  auto clipped = app->dispatch("c", Clip{"\xc3\xab"});
  REQUIRE_FALSE(clipped);
  check_refused(clipped.error(),
                "snapshot of Clipper/c at version 1: field 'preview' is not valid UTF-8 (byte 0xc3 at offset 0)");
  auto fine = app->dispatch("c", Clip{"abc"});
  REQUIRE(fine);
  CHECK(fine->version == 1);
  app->stop();

  auto events = stored(db);
  REQUIRE(events.size() == 3);
  CHECK(events[0].stream_name() == "Notebook/n");
  CHECK(events[2].stream_name() == "Clipper/c");
  CHECK(events[2].payload == R"({"text":"abc"})");
}

TEST_CASE("valid text: aggregate and command ids that are not identifiers are refused at dispatch", "[utf8]") {
  temp_dir dir;
  actor_env env;
  auto app = start(env.sys, dir.file("notes.db"));
  REQUIRE(app);
  auto refused = [&](std::string id, interlock::dispatch_options opts, const std::string& message) {
    auto r = app->dispatch(std::move(id), Write{"memo"}, std::move(opts));
    REQUIRE_FALSE(r);
    check_refused(r.error(), message);
  };
  refused("n\xff", {}, "command Write: aggregate_id is not valid UTF-8 (byte 0xff at offset 1)");
  refused("\xc0\xae", {}, "command Write: aggregate_id is not valid UTF-8 (byte 0xc0 at offset 0)");
  refused(std::string(1025, 'n'), {}, "command Write: aggregate_id is 1025 bytes long; at most 1024 are allowed");
  refused(std::string{"n\0m", 3}, {}, "command Write: aggregate_id holds a NUL byte at offset 1");
  refused("n", {.command_id = "c\xff"}, "command Write: command_id is not valid UTF-8 (byte 0xff at offset 1)");
  refused("n", {.correlation_id = std::string(2000, 'c')},
          "command Write: correlation_id is 2000 bytes long; at most 1024 are allowed");
  refused("n", {.causation_id = "event:\xed\xa0\x80"},
          "command Write: causation_id is not valid UTF-8 (byte 0xed at offset 6)");

  auto loaded = app->load_as_of<Notebook>("n\xff");
  REQUIRE_FALSE(loaded);
  check_refused(loaded.error(), "load_as_of: aggregate_id is not valid UTF-8 (byte 0xff at offset 1)");

  // The longest id there may be works, and nothing of the refused was stored.
  auto longest = app->dispatch(std::string(1024, 'n'), Write{"memo"});
  REQUIRE(longest);
  CHECK(longest->position == 1);
}

TEST_CASE("valid text: an aggregate type name that is not UTF-8 is refused at build", "[utf8]") {
  actor_env env;
  auto app = interlock::application_builder{env.sys}.aggregate<Misnamed>().in_memory().build();
  REQUIRE_FALSE(app);
  check_refused(app.error(), "aggregate type name is not valid UTF-8 (byte 0xff at offset 8)");
}

TEMPLATE_TEST_CASE("valid text: the journal refuses ids, types and JSON that are not UTF-8", "[utf8][journal]",
                   journal_testing::memory_backend, journal_testing::sqlite_backend,
                   journal_testing::postgres_backend) {
  using journal_testing::check_error;
  using journal_testing::request;
  TestType backend;
  auto j = journal_testing::open_journal(backend.factory);
  struct bad_request {
    interlock::append_request req;
    std::vector<std::string> words;
  };
  std::vector<bad_request> bad;
  auto add = [&](std::function<void(interlock::append_request&)> change, std::vector<std::string> words) {
    auto req = request("Note", "n", 0, 2);
    change(req);
    bad.push_back({std::move(req), std::move(words)});
  };
  add([](auto& r) { r.aggregate_type = "No\xffte"; }, {"aggregate_type is not valid UTF-8 (byte 0xff at offset 2)"});
  add([](auto& r) { r.aggregate_id = "n\xed\xa0\x80"; }, {"aggregate_id is not valid UTF-8 (byte 0xed at offset 1)"});
  add([](auto& r) { r.aggregate_id = std::string(1025, 'n'); }, {"aggregate_id is 1025 bytes long"});
  add([](auto& r) { r.aggregate_id = std::string{"n\0", 2}; }, {"aggregate_id holds a NUL byte at offset 1"});
  add([](auto& r) { r.events[1].type = "Happ\xc3"; }, {"'Note/n'", "event 1", "type is not valid UTF-8"});
  add([](auto& r) { r.command_id = "c\xff"; }, {"'Note/n'", "command_id is not valid UTF-8 (byte 0xff at offset 1)"});
  add([](auto& r) { r.record_command = true, r.command_type = "Dep\xff"; },
      {"'Note/n'", "command_type is not valid UTF-8 (byte 0xff at offset 3)"});
  add([](auto& r) { r.command_type = std::string{"Dep\0", 4}; },
      {"'Note/n'", "command_type holds a NUL byte at offset 3"});
  add([](auto& r) { r.correlation_id = "\x80"; }, {"'Note/n'", "correlation_id is not valid UTF-8"});
  add([](auto& r) { r.causation_id = std::string(1025, 'c'); }, {"'Note/n'", "causation_id is 1025 bytes long"});
  add([](auto& r) { r.events[1].payload = "{\"v\":\"\xf0\x9f\x98\"}"; },
      {"'Note/n'", "the payload of event 1 (version 2, type Happened) is not valid UTF-8 (byte 0xf0 at offset 6)"});
  add([](auto& r) { r.snapshot = interlock::snapshot_record{2, 1, "{\"s\":\"\xff\"}"}; },
      {"'Note/n'", "the snapshot's state (version 2) is not valid UTF-8"});
  add([](auto& r) { r.record_command = true, r.result_json = "\"\xc0\x80\""; },
      {"'Note/n'", "the result of command cmd-n-0 is not valid UTF-8"});

  std::vector<interlock::append_request> batch;
  for (auto& b : bad) batch.push_back(b.req);
  batch.push_back(request("Note", "Zo\xc3\xab-\xe4\xb8\xad", 0, 1));  // valid multi-byte text goes in
  auto results = j->append(batch);
  REQUIRE(results.size() == bad.size() + 1);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    INFO("request " << i);
    REQUIRE_FALSE(results[i]);
    check_error(results[i].error(), errc::invalid_argument, bad[i].words);
  }
  REQUIRE(results.back());
  CHECK(results.back()->first_position == 1);  // the refused took no positions
  auto stream = j->read_stream("Note", "Zo\xc3\xab-\xe4\xb8\xad", 1, 10);
  REQUIRE(stream);
  REQUIRE(stream->size() == 1);
  CHECK(stream->front().aggregate_id == "Zo\xc3\xab-\xe4\xb8\xad");

  auto read = j->read_stream("Note", "n\xff", 1, 10);
  REQUIRE_FALSE(read);
  check_error(read.error(), errc::invalid_argument, {"aggregate_id is not valid UTF-8"});
  auto version = j->stream_version("Note", std::string(1025, 'n'));
  REQUIRE_FALSE(version);
  check_error(version.error(), errc::invalid_argument, {"aggregate_id is 1025 bytes long"});
}
