// Reasoning/content split as in vLLM's deepseek_v3 reasoning parser (which delegates to the R1 parser
// when thinking, see vllm/reasoning/deepseek_v3_reasoning_parser.py): a leading <think> is dropped and an
// output that never closes its thinking is all reasoning. Sieve adds the implicit end at a tool-call
// section, so a DSML block written inside <think> is still a tool call rather than reasoning text.
#include "text/reasoning_parser.h"

#include "text/marker_scan.h"

#include <algorithm>

namespace sieve::text {
namespace {
constexpr std::string_view kThinkStart = "<think>";
constexpr std::string_view kThinkEnd = "</think>";
}  // namespace

ReasoningSplitter::ReasoningSplitter(bool starts_in_thinking, std::vector<std::string_view> implicit_ends)
    : state_(starts_in_thinking ? State::kStart : State::kContent), implicit_ends_(std::move(implicit_ends)) {}

ReasoningSplitter::Split ReasoningSplitter::Push(std::string_view text) {
  buffer_.append(text);
  return Run(false);
}

ReasoningSplitter::Split ReasoningSplitter::Finish() { return Run(true); }

ReasoningSplitter::Split ReasoningSplitter::Run(bool final) {
  Split out;
  if (state_ == State::kStart) {
    if (!final && (buffer_.empty() || CouldBecomeMarker(buffer_, {kThinkStart}))) return out;
    if (std::string_view(buffer_).substr(0, kThinkStart.size()) == kThinkStart) buffer_.erase(0, kThinkStart.size());
    state_ = State::kReasoning;
  }
  if (state_ == State::kReasoning) {
    MarkerHit end = FindFirstMarker(buffer_, {kThinkEnd});
    for (std::string_view m : implicit_ends_) {
      const size_t p = buffer_.find(m);
      if (p != std::string::npos && (end.pos == std::string::npos || p < end.pos)) end = {p, m};
    }
    if (end.pos != std::string::npos) {
      const bool explicit_end = end.marker == kThinkEnd;
      // Whitespace between reasoning and a tool-call section separates them; it belongs to neither.
      const size_t keep = explicit_end ? end.pos : end.pos - TrailingWhitespace(buffer_, end.pos);
      out.reasoning = buffer_.substr(0, keep);
      buffer_.erase(0, explicit_end ? end.pos + kThinkEnd.size() : end.pos);
      state_ = State::kContent;
    } else if (final) {
      out.reasoning = std::move(buffer_);
      buffer_.clear();
      return out;
    } else {
      size_t hold = 0;
      for (std::string_view m : implicit_ends_) hold = std::max(hold, PartialMarkerSuffix(buffer_, {m}));
      hold = std::max(hold, PartialMarkerSuffix(buffer_, {kThinkEnd}));
      if (!implicit_ends_.empty()) hold += TrailingWhitespace(buffer_, buffer_.size() - hold);
      out.reasoning = buffer_.substr(0, buffer_.size() - hold);
      buffer_.erase(0, buffer_.size() - hold);
      return out;
    }
  }
  out.content = std::move(buffer_);
  buffer_.clear();
  return out;
}

}  // namespace sieve::text
