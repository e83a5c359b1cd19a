// Aggregation and the Markdown result table of lm-eval; see lm_eval_report.h.
#include "clients/lm_eval_report.h"

#include <fmt/format.h>

#include <cmath>

namespace sieve::clients {
namespace {

enum class Align { kLeft, kRight };

struct Column {
  std::string header;
  Align align;
  std::vector<std::string> cells;
  size_t Width() const {
    // pytablewriter's Markdown columns are at least 3 wide; widths count characters, not bytes.
    size_t w = std::max<size_t>(3, CharCount(header));
    for (const std::string& c : cells) w = std::max(w, CharCount(c));
    return w;
  }
  static size_t CharCount(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }
};

std::string Pad(const std::string& s, size_t width, Align align) {
  const size_t pad = width - Column::CharCount(s);
  return align == Align::kLeft ? s + std::string(pad, ' ') : std::string(pad, ' ') + s;
}

// Headers are centred, extra space on the right (Python's "{:^w}").
std::string Center(const std::string& s, size_t width) {
  const size_t pad = width - Column::CharCount(s);
  return std::string(pad / 2, ' ') + s + std::string(pad - pad / 2, ' ');
}

}  // namespace

FilterScore MeanWithStderr(std::string filter, std::string metric, const std::vector<double>& scores) {
  FilterScore score{std::move(filter), std::move(metric), 0.0, std::nullopt};
  const double n = static_cast<double>(scores.size());
  if (scores.empty()) return score;
  double sum = 0;
  for (double s : scores) sum += s;
  score.value = sum / n;
  if (scores.size() > 1) {
    double squares = 0;
    for (double s : scores) squares += (s - score.value) * (s - score.value);
    score.stderr_value = std::sqrt(squares / (n - 1)) / std::sqrt(n);  // sample_stddev / sqrt(n)
  }
  return score;
}

std::string FormatLmEvalTable(const std::string& task, const std::string& version, int num_fewshot,
                              const std::vector<FilterScore>& scores) {
  std::vector<Column> columns = {{"Tasks", Align::kLeft, {}},   {"Version", Align::kRight, {}},
                                 {"Filter", Align::kLeft, {}},  {"n-shot", Align::kRight, {}},
                                 {"Metric", Align::kLeft, {}},  {"", Align::kLeft, {}},
                                 {"Value", Align::kRight, {}},  {"", Align::kLeft, {}},
                                 {"Stderr", Align::kRight, {}}};
  for (size_t i = 0; i < scores.size(); ++i) {
    const FilterScore& s = scores[i];
    // make_table blanks the task name and version after the first row of a task.
    const std::vector<std::string> row = {i == 0 ? task : "", i == 0 ? version : "", s.filter,
                                          std::to_string(num_fewshot), s.metric, "↑",
                                          fmt::format("{:.4f}", s.value), "±",
                                          s.stderr_value ? fmt::format("{:.4f}", *s.stderr_value) : "N/A"};
    for (size_t c = 0; c < columns.size(); ++c) columns[c].cells.push_back(row[c]);
  }
  std::string out = "|";
  for (const Column& c : columns) out += Center(c.header, c.Width()) + "|";
  out += "\n|";
  for (const Column& c : columns) {
    const size_t w = c.Width();
    out += (c.align == Align::kRight ? std::string(w - 1, '-') + ":" : std::string(w, '-')) + "|";
  }
  out += "\n";
  for (size_t r = 0; r < scores.size(); ++r) {
    out += "|";
    for (const Column& c : columns) out += Pad(c.cells[r], c.Width(), c.align) + "|";
    out += "\n";
  }
  return out;
}

}  // namespace sieve::clients
