// aggregate_model_base: how the runtime runs any aggregate's commands and
// replays its events, compiled once here instead of in each user's
// translation unit that registers an aggregate type.
#include <interlock/runtime/detail/aggregate_model.hpp>

#include <interlock/runtime/detail/model_errors.hpp>

namespace interlock::detail {

void aggregate_type_info::add_handler(std::string_view name, command_fn fn) { handlers.emplace(name, fn); }

void aggregate_type_info::add_applier(std::string_view name, replay_fn fn) { appliers.emplace(name, fn); }

caf::error aggregate_model_base::replay(const event_view& e, bool more_of_same) {
  auto& version = aggregate_access::version(*core_);
  if (const auto expected = more_of_same ? version : version + 1; e.version != expected)
    return version_break(e, expected);
  if (!last_applier_ || e.event_type != last_type_) {  // streams hold runs of one type: skip the hash lookup then
    auto it = info_->appliers.find(e.event_type);
    if (it == info_->appliers.end()) return no_applier_error(e, info_->type_name);
    last_type_ = it->first;  // the table is static: the view stays valid
    last_applier_ = it->second;
  }
  if (auto err = last_applier_(state_, e)) return err;
  version = e.version;
  return {};
}

command_outcome aggregate_model_base::execute(const erased_command& cmd) {
  auto it = info_->handlers.find(cmd.command_type);
  const auto* fn = it == info_->handlers.end() ? nullptr : &it->second;
  if (auto err = check_command_fits(info_->type_name, cmd, fn ? fn->type : nullptr, fn && fn->encode_result))
    return command_outcome::failed(std::move(err));
  command_outcome out;
  try {
    std::tie(out.error, out.result) = fn->run(state_, cmd.body.get());
  } catch (...) {
    out.error = handler_exception_error();
  }
  // An event emit() refused is the first thing that went wrong, even if the
  // handler then threw.
  if (auto& refused = aggregate_access::refused(*core_)) out.error = std::move(refused);
  if (out.error) {
    rollback();
    return out;
  }
  // The payloads move: applying needs only the events themselves (and the
  // type, for errors).
  auto& pending = aggregate_access::pending(*core_);
  out.events.reserve(pending.size());
  for (auto& p : pending) out.events.push_back({p.record.type, p.record.schema_version, std::move(p.record.payload)});
  if (auto err = encode_extras(*fn, cmd, out)) {
    rollback();
    return command_outcome::failed(std::move(err));
  }
  return out;
}

caf::error aggregate_model_base::commit() { return apply_pending("the events are committed, but "); }

caf::error aggregate_model_base::apply_unstored() { return apply_pending("the events were not stored: "); }

caf::error aggregate_model_base::apply_pending(const char* context) {
  auto& pending = aggregate_access::pending(*core_);
  auto batch = std::move(pending);
  pending.clear();
  for (auto& p : batch) {
    try {
      p.apply(state_);
    } catch (...) {
      return exception_error(errc::corrupt_event, std::string{context}.append("apply(" + p.record.type + ") threw"));
    }
    ++aggregate_access::version(*core_);
  }
  // The emptied list goes back, capacity and all, for the next command.
  batch.clear();
  if (pending.empty()) pending.swap(batch);
  return {};
}

void aggregate_model_base::rollback() {
  aggregate_access::pending(*core_).clear();
  aggregate_access::refused(*core_) = caf::error{};
}

// What is stored with the events besides them: the snapshot, if one is due,
// and an idempotent command's result. Text in them that is not valid UTF-8
// fails the command as an event's would (nothing is stored). A state that
// holds such text (made by apply(), from valid events) so fails every command
// that takes a snapshot until the code is fixed: storing it would break every
// reader of the journal, skipping it would hide the bug.
caf::error aggregate_model_base::encode_extras(const aggregate_type_info::command_fn& fn, const erased_command& cmd,
                                               command_outcome& out) const {
  if (!out.events.empty()) {
    auto snapshot = snapshot_if_due();
    if (!snapshot) return std::move(snapshot.error());
    out.snapshot = std::move(*snapshot);
  }
  if (!cmd.idempotent) return {};
  try {
    auto result = fn.encode_result(out.result.get());
    if (!result) return std::move(result.error());
    out.result_json = std::move(*result);
    return {};
  } catch (...) {  // the result type's to_json: its exception must not end the actor
    return exception_error(errc::rejected, "encoding the result of command " + cmd.command_type + " threw");
  }
}

caf::expected<std::shared_ptr<const void>> aggregate_model_base::decode_result(const std::string& command_type,
                                                                              const std::string& json) const {
  auto it = info_->handlers.find(command_type);
  if (it == info_->handlers.end() || !it->second.decode_result)
    return make_error(errc::unknown_command, std::string{"aggregate "}.append(info_->type_name) +
                                                 " cannot decode a stored result of command " + command_type);
  return it->second.decode_result(json);
}

std::string snapshot_name(std::string_view type, const std::string& id, std::uint64_t version) {
  return std::string{"snapshot of "}.append(type).append("/").append(id).append(" at version ") +
         std::to_string(version);
}

caf::error check_snapshot(const snapshot_record& snap, std::string_view type, const std::string& id,
                          std::uint32_t state_version) {
  if (snap.state_version == state_version) return {};
  return make_error(errc::schema_mismatch, snapshot_name(type, id, snap.version) + " has state version " +
                                               std::to_string(snap.state_version) + ", the code reads version " +
                                               std::to_string(state_version));
}

caf::error snapshot_decode_error(const snapshot_record& snap, std::string_view type, const std::string& id) {
  return exception_error(errc::corrupt_event, snapshot_name(type, id, snap.version) + " does not decode");
}

caf::error not_snapshottable_error(std::string_view type) {
  return make_error(errc::schema_mismatch, std::string{type}.append(
                                               " cannot be restored from a snapshot: its state is not "
                                               "JSON-serialisable"));
}

}  // namespace interlock::detail
