// Colour, tables, times, sizes and the progress bar (output.hpp).
#include "output.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <ctime>

namespace journal_cli {
namespace {

std::size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    std::size_t n = 0;
    const std::string_view text{columns};
    if (std::from_chars(text.data(), text.data() + text.size(), n).ec == std::errc{}) return n;
  }
  return 0;
}

const char* code_of(paint_style style) {
  switch (style) {
    case paint_style::bold: return "1";
    case paint_style::dim: return "2";
    case paint_style::red: return "31";
    case paint_style::green: return "32";
    case paint_style::yellow: return "33";
    case paint_style::cyan: return "36";
    case paint_style::magenta: return "35";
    case paint_style::plain: break;
  }
  return nullptr;
}

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Reads `digits` decimal digits at `at` into `out`; false if they are not there.
bool read_number(std::string_view text, std::size_t& at, std::size_t digits, int& out) {
  if (at + digits > text.size()) return false;
  const auto* first = text.data() + at;
  if (!std::all_of(first, first + digits, [](char c) { return c >= '0' && c <= '9'; })) return false;
  std::from_chars(first, first + digits, out);
  at += digits;
  return true;
}

bool expect(std::string_view text, std::size_t& at, char c) {
  if (at >= text.size() || text[at] != c) return false;
  ++at;
  return true;
}

// The fraction after "SS." as microseconds (up to 6 digits read, more ignored).
std::int64_t read_fraction(std::string_view text, std::size_t& at) {
  std::int64_t us = 0;
  int digits = 0;
  for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at)
    if (digits < 6) us = us * 10 + (text[at] - '0'), ++digits;
  for (; digits < 6; ++digits) us *= 10;
  return us;
}

// The zone suffix as seconds east of UTC; nullopt if malformed.
std::optional<std::int64_t> read_zone(std::string_view text, std::size_t& at) {
  if (at == text.size()) return 0;
  if (text[at] == 'Z' || text[at] == 'z') return ++at, 0;
  if (text[at] != '+' && text[at] != '-') return std::nullopt;
  const int sign = text[at++] == '-' ? -1 : 1;
  int h = 0, m = 0;
  if (!read_number(text, at, 2, h) || !expect(text, at, ':') || !read_number(text, at, 2, m)) return std::nullopt;
  return sign * (h * 3600 + m * 60);
}

}  // namespace

output detect_output(bool no_color, std::optional<std::size_t> width_option) {
  const bool allowed = !no_color && std::getenv("NO_COLOR") == nullptr;
  output out;
  out.color = allowed && ::isatty(STDOUT_FILENO) == 1;
  out.color_err = allowed && ::isatty(STDERR_FILENO) == 1;
  out.width = width_option ? *width_option : terminal_width();
  return out;
}

std::string paint(std::string_view text, paint_style style, bool on) {
  const char* code = code_of(style);
  if (!on || code == nullptr || text.empty()) return std::string{text};
  return std::string{"\x1b["}.append(code).append("m").append(text).append("\x1b[0m");
}

std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) { return !continuation_byte(c); }));
}

std::string cut_to(std::string_view text, std::size_t width) {
  if (width == 0 || display_width(text) <= width) return std::string{text};
  std::size_t kept = 0, at = 0;
  for (; at < text.size(); ++at) {
    if (continuation_byte(text[at])) continue;
    if (kept == width - 1) break;
    ++kept;
  }
  return std::string{text.substr(0, at)} + "…";
}

std::vector<std::size_t> table::widths() const {
  std::vector<std::size_t> w;
  for (const auto& c : columns_) w.push_back(display_width(c.header));
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size() && i < w.size(); ++i) w[i] = std::max(w[i], display_width(row[i]));
  return w;
}

void table::print_line(std::FILE* to, const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
                       const output& out, bool header) const {
  std::string line;
  std::size_t used = 0;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const bool last = i + 1 == columns_.size();
    std::string cell = i < cells.size() ? cells[i] : "";
    if (last && out.width > used) cell = cut_to(cell, out.width - used);
    const std::string pad(widths[i] > display_width(cell) ? widths[i] - display_width(cell) : 0, ' ');
    const auto style = header ? paint_style::bold : columns_[i].style;
    const auto painted = paint(cell, style, out.color);
    line += columns_[i].right ? pad + painted : painted + (last ? "" : pad);
    if (!last) line += "  ";
    used += widths[i] + 2;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  std::fprintf(to, "%s\n", line.c_str());
}

void table::print(std::FILE* to, const output& out, bool header, std::vector<std::size_t>* carried) const {
  auto w = widths();
  if (carried != nullptr) {
    for (std::size_t i = 0; i < w.size() && i < carried->size(); ++i) w[i] = std::max(w[i], (*carried)[i]);
    *carried = w;
  }
  std::vector<std::string> headers;
  for (const auto& c : columns_) headers.push_back(c.header);
  if (header) print_line(to, headers, w, out, true);
  for (const auto& row : rows_) print_line(to, row, w, out, false);
}

std::string iso_time(std::int64_t us, bool micros) {
  const std::int64_t seconds = us >= 0 ? us / 1'000'000 : (us - 999'999) / 1'000'000;
  const auto fraction = us - seconds * 1'000'000;
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  if (micros)
    std::snprintf(out, sizeof out, "%s.%06lldZ", date, static_cast<long long>(fraction));
  else
    std::snprintf(out, sizeof out, "%s.%03lldZ", date, static_cast<long long>(fraction / 1000));
  return out;
}

std::optional<std::int64_t> parse_iso_time(std::string_view text) {
  std::size_t at = 0;
  std::tm tm{};
  int hh = 0, mm = 0, ss = 0;
  std::int64_t us = 0;
  if (!read_number(text, at, 4, tm.tm_year) || !expect(text, at, '-') || !read_number(text, at, 2, tm.tm_mon) ||
      !expect(text, at, '-') || !read_number(text, at, 2, tm.tm_mday))
    return std::nullopt;
  if (at < text.size() && (text[at] == 'T' || text[at] == 't' || text[at] == ' ')) {
    ++at;
    if (!read_number(text, at, 2, hh) || !expect(text, at, ':') || !read_number(text, at, 2, mm)) return std::nullopt;
    if (expect(text, at, ':')) {
      if (!read_number(text, at, 2, ss)) return std::nullopt;
      if (expect(text, at, '.')) us = read_fraction(text, at);
    }
  }
  const auto zone = read_zone(text, at);
  if (!zone || at != text.size() || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      hh > 23 || mm > 59 || ss > 60)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_hour = hh, tm.tm_min = mm, tm.tm_sec = ss;
  const std::int64_t seconds = static_cast<std::int64_t>(::timegm(&tm)) - *zone;
  return seconds * 1'000'000 + us;
}

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  for (; value >= 1024 && unit + 1 < std::size(units); ++unit) value /= 1024;
  char out[32];
  std::snprintf(out, sizeof out, "%.1f %s", value, units[unit]);
  return out;
}

progress_bar::progress_bar(std::string label, std::uint64_t total)
    : label_(std::move(label)), total_(total), on_(::isatty(STDERR_FILENO) == 1 && total > 0) {}

void progress_bar::update(std::uint64_t done) {
  if (!on_) return;
  const int percent = static_cast<int>(std::min<std::uint64_t>(done, total_) * 100 / total_);
  if (percent == shown_) return;
  shown_ = percent;
  constexpr int width = 30;
  const int filled = percent * width / 100;
  std::fprintf(stderr, "\r%s [%s%s] %3d%%", label_.c_str(), std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), percent);
  std::fflush(stderr);
}

void progress_bar::finish() {
  if (!on_ || shown_ < 0) return;
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(label_.size()) + 40, "");
  std::fflush(stderr);
  shown_ = -1;
}

}  // namespace journal_cli
