// The small domain of the web view's tests (tests/debug_web_test.cpp, and
// tests/programs/web_console.cpp, which serves it): a Wallet whose state has
// a JSON view (owner, balance, labels: every kind of change: replace, add,
// remove), and Opaque, whose state has none.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <interlock/runtime/interlock.hpp>

namespace web {

struct Open {
  using result_type = void;
  std::string owner;
};
struct Deposit {
  using result_type = void;
  std::int64_t amount = 0;
};
struct Label {
  using result_type = void;
  std::string key;
  std::string value;
};
struct Unlabel {
  using result_type = void;
  std::string key;
};
struct Opened {
  std::string owner;
};
struct Deposited {
  std::int64_t amount = 0;
};
struct Labelled {
  std::string key;
  std::string value;
};
struct Unlabelled {
  std::string key;
};
INTERLOCK_JSON(Open, owner)
INTERLOCK_JSON(Deposit, amount)
INTERLOCK_JSON(Label, key, value)
INTERLOCK_JSON(Unlabel, key)
INTERLOCK_JSON(Opened, owner)
INTERLOCK_JSON(Deposited, amount)
INTERLOCK_JSON(Labelled, key, value)
INTERLOCK_JSON(Unlabelled, key)

struct Wallet : interlock::aggregate<Wallet> {
  using commands = interlock::types<Open, Deposit, Label, Unlabel>;
  using events = interlock::types<Opened, Deposited, Labelled, Unlabelled>;
  std::string owner;
  std::int64_t balance = 0;
  std::map<std::string, std::string> labels;
  void handle(const Open& c) { emit(Opened{c.owner}); }
  void handle(const Deposit& c) { emit(Deposited{c.amount}); }
  void handle(const Label& c) { emit(Labelled{c.key, c.value}); }
  void handle(const Unlabel& c) { emit(Unlabelled{c.key}); }
  void apply(const Opened& e) { owner = e.owner; }
  void apply(const Deposited& e) { balance += e.amount; }
  void apply(const Labelled& e) { labels[e.key] = e.value; }
  void apply(const Unlabelled& e) { labels.erase(e.key); }
};
INTERLOCK_JSON(Wallet, owner, balance, labels)

struct Ping {
  using result_type = void;
};
struct Pinged {};
struct Opaque : interlock::aggregate<Opaque> {  // no JSON view of its state
  using commands = interlock::types<Ping>;
  using events = interlock::types<Pinged>;
  int pings = 0;
  void handle(const Ping&) { emit(Pinged{}); }
  void apply(const Pinged&) { ++pings; }
};

inline interlock::application_builder& registered(interlock::application_builder& b, const std::string& journal) {
  return b.aggregate<Wallet>().aggregate<Opaque>().sqlite(journal);
}

}  // namespace web
