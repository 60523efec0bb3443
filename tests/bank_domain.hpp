// A small bank used by the runtime tests. Deposit returns the new balance, to
// exercise typed command results; `tag` lets tests check per-aggregate order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <interlock/runtime/interlock.hpp>
#include <interlock/runtime/nlohmann_json.hpp>

namespace testbank {

struct Open {
  using result_type = void;
  std::string owner;
};
struct Deposit : interlock::command<std::int64_t> {  // the base-class form of a command
  std::int64_t amount = 0;
  std::string tag;
};
struct Withdraw {
  using result_type = void;
  std::int64_t amount = 0;
};
struct Ping {  // a command that emits nothing
  using result_type = std::string;
  int nonce = 0;
};

struct Opened {
  std::string owner;
};
struct Deposited {
  std::int64_t amount = 0;
  std::string tag;
};
struct Withdrawn {
  std::int64_t amount = 0;
};

INTERLOCK_JSON(Open, owner)
INTERLOCK_JSON(Deposit, amount, tag)
INTERLOCK_JSON(Withdraw, amount)
INTERLOCK_JSON(Ping, nonce)
INTERLOCK_JSON(Opened, owner)
INTERLOCK_JSON(Deposited, amount, tag)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Withdrawn, amount)  // plain nlohmann: the slower path, kept covered

struct Account : interlock::aggregate<Account> {
  using commands = interlock::types<Open, Deposit, Withdraw, Ping>;
  using events = interlock::types<Opened, Deposited, Withdrawn>;

  bool open = false;
  std::string owner;
  std::int64_t balance = 0;
  std::vector<std::string> tags;

  void handle(const Open& c) {
    if (open) throw interlock::rejected{"account " + id() + " is already open"};
    if (c.owner.empty()) throw interlock::rejected{"owner must not be empty"};
    emit(Opened{c.owner});
  }
  std::int64_t handle(const Deposit& c) {
    require_open();
    if (c.amount <= 0) throw interlock::rejected{"Amount must be positive"};
    emit(Deposited{c.amount, c.tag});
    return balance + c.amount;
  }
  void handle(const Withdraw& c) {
    require_open();
    if (c.amount > balance)
      throw interlock::rejected{"Insufficient funds: balance " + std::to_string(balance) + ", requested " +
                                std::to_string(c.amount)};
    emit(Withdrawn{c.amount});
  }
  std::string handle(const Ping& p) { return id() + ":" + std::to_string(p.nonce) + "@" + std::to_string(version()); }

  void apply(const Opened& e) {
    open = true;
    owner = e.owner;
  }
  void apply(const Deposited& e) {
    balance += e.amount;
    tags.push_back(e.tag);
  }
  void apply(const Withdrawn& e) { balance -= e.amount; }

 private:
  void require_open() const {
    if (!open) throw interlock::rejected{"account " + id() + " is not open"};
  }
};

// -- queries and projections --------------------------------------------------

struct GetBalance {
  using result_type = std::int64_t;
  std::string account_id;
};
struct GetTotals {
  using result_type = std::map<std::string, std::int64_t>;
};
struct GetTags : interlock::query<std::vector<std::string>> {
  std::string account_id;
};
struct GetSeen {  // every envelope the projection saw, as "position:stream:version:command:correlation:causation"
  using result_type = std::vector<std::string>;
};

struct Balances {
  using events = interlock::types<Deposited, Withdrawn>;
  using queries = interlock::types<GetBalance, GetTotals>;

  std::map<std::string, std::int64_t> balances;

  void on(const Deposited& e, const interlock::event_envelope& env) { balances[env.aggregate_id] += e.amount; }
  void on(const Withdrawn& e, const interlock::event_envelope& env) { balances[env.aggregate_id] -= e.amount; }
  std::int64_t handle(const GetBalance& q) const {
    auto it = balances.find(q.account_id);
    return it == balances.end() ? 0 : it->second;
  }
  std::map<std::string, std::int64_t> handle(const GetTotals&) const { return balances; }
};

struct Audit {
  using events = interlock::types<Opened, Deposited, Withdrawn>;
  using queries = interlock::types<GetTags, GetSeen>;

  std::map<std::string, std::vector<std::string>> tags;
  std::vector<std::string> seen;

  void record(const interlock::event_envelope& env) {
    // With the ids: catch-up must hand a projection that takes envelopes the
    // same ids as the live stream did (restart and rebuild tests compare).
    seen.push_back(std::to_string(env.position) + ":" + env.stream_name() + ":" + std::to_string(env.version) + ":" +
                   env.command_id + ":" + env.correlation_id + ":" + env.causation_id);
  }
  void on(const Opened&, const interlock::event_envelope& env) { record(env); }
  void on(const Deposited& e, const interlock::event_envelope& env) {
    record(env);
    tags[env.aggregate_id].push_back(e.tag);
  }
  void on(const Withdrawn&, const interlock::event_envelope& env) { record(env); }
  std::vector<std::string> handle(const GetTags& q) const {
    auto it = tags.find(q.account_id);
    return it == tags.end() ? std::vector<std::string>{} : it->second;
  }
  std::vector<std::string> handle(const GetSeen&) const { return seen; }
};

inline void to_json(nlohmann::json& j, const GetTotals&) { j = nlohmann::json::object(); }
inline void from_json(const nlohmann::json&, GetTotals&) {}
INTERLOCK_JSON(GetBalance, account_id)
INTERLOCK_JSON(GetTags, account_id)
inline void to_json(nlohmann::json& j, const GetSeen&) { j = nlohmann::json::object(); }
inline void from_json(const nlohmann::json&, GetSeen&) {}

inline interlock::application_builder& register_bank(interlock::application_builder& b) {
  return b.aggregate<Account>().projection<Balances>().projection<Audit>();
}

}  // namespace testbank
