// projection_model_base: how the runtime applies events to any projection and
// asks it queries, compiled once here instead of in each user's translation
// unit that registers a projection type.
#include <interlock/runtime/detail/projection_model.hpp>

#include <interlock/persistence/read_db.hpp>
#include <interlock/runtime/detail/model_errors.hpp>

namespace interlock::detail {

void projection_type_info::add_consumer(std::string_view name, event_fn fn) { consumers.emplace(name, fn); }

void projection_type_info::add_query(std::string_view name, query_fn fn) { queries.emplace(name, fn); }

caf::error projection_model_base::apply(const event_view& e, event_envelope& scratch) {
  if (!seen_a_type_ || e.event_type != last_type_) {  // the journal holds runs of one type: skip the hash then
    auto it = info_->consumers.find(e.event_type);
    last_consumer_ = it == info_->consumers.end() ? nullptr : it->second;
    last_type_ = e.event_type;
    seen_a_type_ = true;
  }
  return last_consumer_ ? last_consumer_(state_, e, scratch, db_) : caf::error{};
}

query_outcome projection_model_base::answer(const erased_query& q) {
  auto it = info_->queries.find(q.query_type);
  const auto* fn = it == info_->queries.end() ? nullptr : &it->second;
  if (auto err = check_query_fits(info_->type_name, q, fn ? fn->type : nullptr)) return {std::move(err), nullptr};
  try {
    auto [err, result] = fn->run(state_, q.body.get(), db_);
    return {std::move(err), std::move(result)};
  } catch (...) {
    return {query_exception_error(q), nullptr};
  }
}

std::string read_model_snapshot_name(std::string_view projection) {
  return std::string{"read-model snapshot of projection "}.append(projection);
}

caf::error read_model_decode_error(std::string_view projection) {
  return exception_error(errc::corrupt_event, read_model_snapshot_name(projection) + " does not decode");
}

caf::error table_exception_error(std::string_view projection, std::string_view step) {
  return exception_error(errc::corrupt_event,
                         std::string{"projection "}.append(projection).append(": ").append(step).append("(read_db&) threw"));
}

caf::error no_reset_error(std::string_view projection) {
  return make_error(errc::invalid_argument, std::string{"projection "}
                                                .append(projection)
                                                .append(" keeps its read model in tables and has no reset(read_db&) "
                                                        "that empties them: it cannot be rebuilt"));
}

caf::error consumer_exception_error(const event_view& e, std::string_view projection) {
  try {
    throw;
  } catch (const sql_error& err) {
    if (err.storage_failure())  // the database, not the event: errc::storage, which is retried
      return make_error(errc::storage,
                        describe_event(e).append(": projection ").append(projection).append(": ").append(err.what()));
  } catch (...) {
  }
  return exception_error(errc::corrupt_event,
                         describe_event(e).append(": projection ").append(projection).append(" on() threw"));
}

}  // namespace interlock::detail
