// How the banking sample reads journals written by its first version (kept as
// tests/golden/banking_v1.sql). Stored events are never rewritten; these run
// on read:
//  - AccountOpened v1 named its field "owner"; v2 calls it "owner_name".
//  - FundsWithdrawn was renamed MoneyWithdrawn (same payload).
//  - AccountOpenedWithDeposit {owner, initial} became two events:
//    AccountOpened + MoneyDeposited.
#pragma once

#include <interlock/persistence/upcaster.hpp>

#include "domain.hpp"

namespace banking {

inline void add_upcasters(interlock::upcaster_chain& chain) {
  chain
      .step<AccountOpened>(1,
                           [](nlohmann::json p) {
                             if (p.contains("owner")) {
                               p["owner_name"] = p["owner"];
                               p.erase("owner");
                             }
                             return p;
                           })
      .rename("FundsWithdrawn", 1, std::string{MoneyWithdrawn::type_name}, 1)
      .split("AccountOpenedWithDeposit", 1, {{"AccountOpened", 1}, {"MoneyDeposited", 1}}, [](nlohmann::json p) {
        return std::vector<interlock::upcast_event>{{"AccountOpened", 1, {{"owner", p.at("owner")}}},
                                                    {"MoneyDeposited", 1, {{"amount", p.at("initial")}}}};
      });
}

}  // namespace banking
