#include <interlock/core/errors.hpp>
#include <interlock/model/middleware.hpp>

namespace interlock {
namespace {

class logging final : public command_middleware {
 public:
  explicit logging(log_level level) : level_(level) {}

  void after(const command_envelope& cmd, const command_result& r, std::chrono::microseconds took) override {
    const auto level = r.error ? log_level::warning : level_;
    if (!log_enabled(level)) return;
    std::string line = "command " + cmd.command_type + " to " + cmd.aggregate_type + "/" + cmd.aggregate_id;
    line += r.error ? " failed: " + describe(r.error)
                    : " ok: " + std::to_string(r.events) + " event(s), version " + std::to_string(r.version);
    line += " in " + std::to_string(took.count()) + "us (command " + cmd.command_id + ", correlation " +
            cmd.correlation_id + ")";
    log(level, line);
  }

 private:
  log_level level_;
};

}  // namespace

std::shared_ptr<command_middleware> logging_middleware(log_level level) { return std::make_shared<logging>(level); }

}  // namespace interlock
