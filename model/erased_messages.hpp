// Lets CAF carry the erased command/query types between local actors. They
// hold typed bodies (shared_ptr<const void>), so they are local-only: sending
// one to a remote node fails loudly instead of losing the body.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <interlock/model/erased.hpp>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::erased_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::erased_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::erased_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(interlock::detail::erased_answer)
