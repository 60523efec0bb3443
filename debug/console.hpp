// What the debug console's commands share (runtime/debug.hpp is the user's
// API): where they write and whether in colour, the builder's registered
// types, opening the journal, and `failure`, the error that ends a command
// with its message and exit status. One file per command beside it
// (commands.hpp lists them). Internal.
#pragma once

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <interlock/persistence/journal.hpp>
#include <interlock/runtime/application_builder.hpp>

namespace interlock::debug::detail {

/// Ends a command: `what()` goes to stderr, `exit_code` is returned (1 a
/// failure, 2 a usage error).
struct failure : std::runtime_error {
  explicit failure(const std::string& message, int code = 1) : std::runtime_error(message), exit_code(code) {}
  int exit_code;
};

enum class style { plain, bold, dim, red, green, yellow, cyan };

class console {
 public:
  console(const application_builder& builder, std::ostream& out, std::ostream& err, bool color)
      : builder_(builder), out_(out), err_(err), color_(color) {}

  const application_builder& builder() const { return builder_; }
  std::ostream& out() const { return out_; }
  std::ostream& err() const { return err_; }
  /// `text` in `s`'s colours when the output is coloured.
  std::string paint(std::string_view text, style s) const;
  void set_color(bool on) { color_ = on; }

  /// The journal file the builder's settings name (a failure for an
  /// in-memory journal or one of the program's own).
  std::string journal_path() const;
  /// The read store beside it (or the one the settings name).
  std::string read_store_path() const;
  /// A connection to the journal; a failure naming the file if it is missing
  /// or does not open.
  std::unique_ptr<journal> open_journal() const;
  /// The registered aggregate type `name`; a failure naming it and the
  /// registered ones otherwise.
  const interlock::detail::aggregate_kind& aggregate(const std::string& name) const;
  /// The registered projection `name` (a read model, not a processor or
  /// saga); a failure naming it and the registered ones otherwise.
  const interlock::detail::projection_kind& projection(const std::string& name) const;

 private:
  const application_builder& builder_;
  std::ostream& out_;
  std::ostream& err_;
  bool color_;
};

/// "Type/id" split at its first '/'; a usage failure (2) if either part is empty.
struct stream_name {
  std::string type;
  std::string id;
  static stream_name parse(const std::string& text);
  std::string text() const { return type + "/" + id; }
};

/// "2026-12-05T08:26:24.242516Z".
std::string iso_time(std::int64_t us_since_epoch);
/// Microseconds since the epoch of an ISO-8601 time (no zone: UTC); a usage
/// failure (2) naming `text` if it is not one.
std::int64_t parse_time(const std::string& text);

}  // namespace interlock::debug::detail
