// Prometheus counter parsing; see prometheus_counters.h.
#include "clients/prometheus_counters.h"

#include <charconv>
#include <cstdlib>
#include <vector>

namespace sieve::clients {
namespace {

constexpr std::string_view kDrafts = "vllm:spec_decode_num_drafts_total";
constexpr std::string_view kDraftTokens = "vllm:spec_decode_num_draft_tokens_total";
constexpr std::string_view kAccepted = "vllm:spec_decode_num_accepted_tokens_total";
constexpr std::string_view kAcceptedPerPos = "vllm:spec_decode_num_accepted_tokens_per_pos_total";

struct Sample {
  std::string_view name, labels;  // labels without the braces
  double value = 0;
};

// One sample line: `name{labels} value [timestamp]` or `name value`; nullopt for comments and junk.
std::optional<Sample> ParseLine(std::string_view line) {
  if (line.empty() || line.front() == '#') return std::nullopt;
  Sample s;
  size_t value_begin;
  const size_t brace = line.find('{');
  const size_t space = line.find(' ');
  if (brace != std::string_view::npos && brace < space) {
    const size_t close = line.find('}', brace);
    if (close == std::string_view::npos) return std::nullopt;
    s.name = line.substr(0, brace);
    s.labels = line.substr(brace + 1, close - brace - 1);
    value_begin = close + 1;
  } else {
    if (space == std::string_view::npos) return std::nullopt;
    s.name = line.substr(0, space);
    value_begin = space;
  }
  while (value_begin < line.size() && line[value_begin] == ' ') ++value_begin;
  const std::string value(line.substr(value_begin, line.find(' ', value_begin) - value_begin));
  char* end = nullptr;
  s.value = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size()) return std::nullopt;
  return s;
}

template <typename Fn>
void ForEachSample(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto s = ParseLine(line)) fn(*s);
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
}

std::optional<int> PositionLabel(std::string_view labels) {
  const size_t at = labels.find("position=\"");
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view digits = labels.substr(at + 10);
  int position = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), position);
  if (ec != std::errc() || end == digits.data() + digits.size() || *end != '"') return std::nullopt;
  return position;
}

}  // namespace

std::optional<double> SumCounter(std::string_view exposition, std::string_view name) {
  std::optional<double> sum;
  ForEachSample(exposition, [&](const Sample& s) {
    if (s.name == name) sum = sum.value_or(0) + s.value;
  });
  return sum;
}

std::optional<SpecDecodeCounters> ParseSpecDecodeCounters(std::string_view exposition) {
  SpecDecodeCounters c;
  bool found = false;
  ForEachSample(exposition, [&](const Sample& s) {
    if (s.name == kDrafts) {
      c.num_drafts += s.value;
      found = true;
    } else if (s.name == kDraftTokens) {
      c.num_draft_tokens += s.value;
    } else if (s.name == kAccepted) {
      c.num_accepted_tokens += s.value;
    } else if (s.name == kAcceptedPerPos) {
      if (auto pos = PositionLabel(s.labels)) c.accepted_per_position[*pos] += s.value;
    }
  });
  if (!found) return std::nullopt;
  return c;
}

std::optional<SpecDecodeStats> SpecDecodeDelta(const std::optional<SpecDecodeCounters>& before,
                                               const std::optional<SpecDecodeCounters>& after) {
  if (!before || !after) return std::nullopt;
  SpecDecodeStats s;
  s.num_drafts = static_cast<long>(after->num_drafts - before->num_drafts);
  s.draft_tokens = static_cast<long>(after->num_draft_tokens - before->num_draft_tokens);
  s.accepted_tokens = static_cast<long>(after->num_accepted_tokens - before->num_accepted_tokens);
  if (s.draft_tokens <= 0) return std::nullopt;
  s.acceptance_rate = static_cast<double>(s.accepted_tokens) / static_cast<double>(s.draft_tokens) * 100;
  s.acceptance_length =
      s.num_drafts > 0 ? 1 + static_cast<double>(s.accepted_tokens) / static_cast<double>(s.num_drafts) : 0;
  if (s.num_drafts > 0) {
    // Positions seen in either snapshot; one missing after the run keeps its earlier count (delta 0).
    std::map<int, double> positions = before->accepted_per_position;
    for (const auto& [pos, v] : after->accepted_per_position) positions.try_emplace(pos, 0);
    for (const auto& [pos, before_value] : positions) {
      const auto it = after->accepted_per_position.find(pos);
      const double after_value = it == after->accepted_per_position.end() ? before_value : it->second;
      const auto b = before->accepted_per_position.find(pos);
      const double delta = after_value - (b == before->accepted_per_position.end() ? 0 : b->second);
      s.per_position_acceptance_rates.push_back(delta / static_cast<double>(s.num_drafts));
    }
  }
  return s;
}

}  // namespace sieve::clients
