#pragma once

#include <caf/expected.hpp>

#include <interlock/core/errors.hpp>
#include <interlock/model/erased.hpp>
#include <interlock/runtime/receipt.hpp>

namespace interlock::detail {

template <class R>
caf::expected<receipt<R>> to_receipt(caf::expected<erased_reply> reply) {
  if (!reply) return std::move(reply.error());
  receipt<R> out;
  static_cast<receipt_info&>(out) = receipt_info{std::move(reply->aggregate_id), reply->position, reply->version,
                                                 reply->events};
  if constexpr (!std::is_void_v<R>) {
    if (!reply->result)
      return make_error(errc::invalid_argument,
                        "the reply carries no result: a command middleware answered in the command's place, "
                        "which only commands without a result type allow");
    out.value = *std::static_pointer_cast<const R>(reply->result);
  }
  return out;
}

template <class R>
caf::expected<R> to_result(caf::expected<erased_answer> answer) {
  if (!answer) return std::move(answer.error());
  if constexpr (std::is_void_v<R>) return caf::expected<void>{};
  else return *std::static_pointer_cast<const R>(answer->result);
}

}  // namespace interlock::detail
