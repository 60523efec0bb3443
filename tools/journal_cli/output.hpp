// What interlock-journal's subcommands share for output: colour (on when the
// stream is a terminal, off with --no-color, NO_COLOR or when piped), aligned
// tables whose last column is cut to a width, times as ISO-8601 UTC, sizes,
// and a progress bar on stderr (drawn only when stderr is a terminal).
// Tables align by code points, not bytes, so UTF-8 text stays aligned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace journal_cli {

/// How to write: colour on stdout / stderr, and the width to cut tables to
/// (0: no limit).
struct output {
  bool color = false;
  bool color_err = false;
  std::size_t width = 0;
};

/// The output for this process: colour when the stream is a terminal and
/// neither `no_color` nor $NO_COLOR; width `width_option` if given (0: none),
/// else the terminal's, else $COLUMNS, else none.
output detect_output(bool no_color, std::optional<std::size_t> width_option);

enum class paint_style { plain, bold, dim, red, green, yellow, cyan, magenta };

/// `text` wrapped in the style's escape codes when `on`.
std::string paint(std::string_view text, paint_style style, bool on);

/// Number of code points in UTF-8 `text` (its width on a terminal, near enough).
std::size_t display_width(std::string_view text);

/// `text` cut to `width` code points, the last one "…" when cut (0: unchanged).
std::string cut_to(std::string_view text, std::size_t width);

struct column {
  std::string header;
  bool right = false;  // numbers align right
  paint_style style = paint_style::plain;
};

/// Rows printed under their headers, each column as wide as its widest cell;
/// the last column is cut so that a line fits `output::width`.
class table {
 public:
  explicit table(std::vector<column> columns) : columns_(std::move(columns)) {}
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  void clear() { rows_.clear(); }
  /// Prints the rows, under the headers if `header`. `carried`, if given,
  /// holds the widths of the part of the same table printed before (a long
  /// table printed in parts), and is updated: columns only grow.
  void print(std::FILE* to, const output& out, bool header = true, std::vector<std::size_t>* carried = nullptr) const;

 private:
  std::vector<std::size_t> widths() const;
  void print_line(std::FILE* to, const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
                  const output& out, bool header) const;
  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// "2024-05-01T12:00:00.123456Z" (`micros`) or "2024-05-01T12:00:00.123Z".
std::string iso_time(std::int64_t us_since_epoch, bool micros = true);

/// Microseconds since the epoch of "YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|(+|-)HH:MM]"
/// (no zone: UTC); nullopt if `text` is not such a time.
std::optional<std::int64_t> parse_iso_time(std::string_view text);

/// "1.5 MiB" (bytes below 1 KiB as "512 B").
std::string human_size(std::uint64_t bytes);

/// "\r[#####     ] 50% verify" on stderr, redrawn at most each percent; nothing
/// when stderr is not a terminal.
class progress_bar {
 public:
  progress_bar(std::string label, std::uint64_t total);
  ~progress_bar() { finish(); }
  void update(std::uint64_t done);
  void finish();

 private:
  std::string label_;
  std::uint64_t total_;
  int shown_ = -1;
  bool on_;
};

}  // namespace journal_cli
