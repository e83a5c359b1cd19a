// V3.1-format tool-call scanner (vllm/.../deepseekv31_tool_parser.py, sglang/.../deepseekv31_detector.py
// for the format; the text-preserving choices are Sieve's, see the header).
#include "text/v31_tool_parser.h"

#include "text/marker_scan.h"

namespace sieve::text {
namespace {

constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// V3/R1 wrote `function<｜tool▁sep｜>NAME\n```json\nARGS\n```` ; read it as NAME and ARGS.
void UnwrapLegacyCall(std::string* name, std::string* arguments) {
  if (*name != "function") return;
  const size_t fence = arguments->find("\n```json\n");
  if (fence == std::string::npos || arguments->size() < fence + 9 + 4 ||
      arguments->compare(arguments->size() - 4, 4, "\n```") != 0)
    return;
  *name = arguments->substr(0, fence);
  *arguments = arguments->substr(fence + 9, arguments->size() - 4 - (fence + 9));
}

class V31Scanner : public ToolCallScanner {
 public:
  void Push(std::string_view text, ToolCallSink* sink) override {
    buffer_.append(text);
    Run(false, sink);
  }
  void Finish(ToolCallSink* sink) override { Run(true, sink); }
  std::vector<std::string_view> Openers() const override { return {kCallsBegin}; }

 private:
  void Run(bool final, ToolCallSink* sink) {
    for (;;) {
      if (!in_calls_) {
        const size_t p = buffer_.find(kCallsBegin);
        if (p == std::string::npos) {
          const size_t keep = final ? buffer_.size() : buffer_.size() - PartialMarkerSuffix(buffer_, {kCallsBegin});
          sink->Content(std::string_view(buffer_).substr(0, keep));
          buffer_.erase(0, keep);
          return;
        }
        sink->Content(std::string_view(buffer_).substr(0, p));
        buffer_.erase(0, p + kCallsBegin.size());
        section_raw_ = kCallsBegin;
        in_calls_ = true;
      }
      size_t ws = 0;
      while (ws < buffer_.size() && (buffer_[ws] == ' ' || buffer_[ws] == '\n')) ++ws;
      section_raw_.append(buffer_, 0, ws);
      buffer_.erase(0, ws);
      if (StartsWith(buffer_, kCallsEnd)) {
        buffer_.erase(0, kCallsEnd.size());
        in_calls_ = false;
        continue;
      }
      if (StartsWith(buffer_, kCallBegin)) {
        const size_t end = buffer_.find(kCallEnd);
        const size_t sep = buffer_.find(kSep);
        if (end == std::string::npos && !final) return;
        if (end == std::string::npos || sep == std::string::npos || sep > end) {
          LeaveSection(sink);  // cut off or no separator: not a call
          continue;
        }
        std::string name = buffer_.substr(kCallBegin.size(), sep - kCallBegin.size());
        std::string arguments = buffer_.substr(sep + kSep.size(), end - sep - kSep.size());
        UnwrapLegacyCall(&name, &arguments);
        sink->ToolCall(std::move(name), std::move(arguments));
        buffer_.erase(0, end + kCallEnd.size());
        section_raw_.clear();
        continue;
      }
      if (buffer_.empty() && !final) return;
      if (!final && CouldBecomeMarker(buffer_, {kCallsEnd, kCallBegin})) return;
      // Stray text, or the end of output inside the section.
      LeaveSection(sink);
      if (buffer_.empty()) return;
    }
  }

  // Leaves the call section; markup that produced no call is content, as is whatever follows.
  void LeaveSection(ToolCallSink* sink) {
    if (section_raw_.find_first_not_of(" \n") != std::string::npos) sink->Content(section_raw_);
    section_raw_.clear();
    in_calls_ = false;
    if (StartsWith(buffer_, kCallBegin)) {
      // A malformed call: skip its opener so the text scan does not stop on it again.
      sink->Content(kCallBegin);
      buffer_.erase(0, kCallBegin.size());
    }
  }

  bool in_calls_ = false;
  std::string buffer_;
  std::string section_raw_;  // section markup since the last call
};

}  // namespace

std::unique_ptr<ToolCallScanner> MakeV31ToolCallScanner() { return std::make_unique<V31Scanner>(); }

}  // namespace sieve::text
