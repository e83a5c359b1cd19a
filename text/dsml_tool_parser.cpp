// DSML tool-call scanner. Grammar (../shared/fixtures/chat/README.md, "DSML tool-call grammar"):
//   block  := "<｜DSML｜function_calls>" invoke* "</｜DSML｜function_calls>"
//   invoke := "<｜DSML｜invoke name=\"NAME\">" param* "</｜DSML｜invoke>"
//   param  := "<｜DSML｜parameter name=\"KEY\" string=\"true|false\">VALUE</｜DSML｜parameter>"
// Leniencies, each one a failure users reported in other engines (see the named tests):
//  - a block opens at <｜DSML｜function_calls> anywhere in the content, or at a bare <｜DSML｜invoke;
//    whitespace before it is dropped (the reference needs exactly "\n\n" before the wrapper);
//  - whitespace between tags is free; an invoke or block cut off after its last complete parameter
//    still yields the call (the reference accepts the first, rejects the second);
//  - a malformed invoke (bad header, bad string attribute, duplicate key, text between tags, value cut
//    off) is returned verbatim as content, and its good siblings stay tool calls;
//  - text after the block is content.
// Arguments are rebuilt as the reference does: "{" + ", ".join(json(key) + ": " + (json(value) if
// string == "true" else value)) + "}", so string="false" values are pasted verbatim.
#include "text/dsml_tool_parser.h"

#include <utility>
#include <vector>

#include "text/marker_scan.h"
#include "text/python_json.h"

namespace sieve::text {
namespace {

constexpr std::string_view kBlockOpen = "<｜DSML｜function_calls>";
constexpr std::string_view kBlockClose = "</｜DSML｜function_calls>";
constexpr std::string_view kInvokeOpen = "<｜DSML｜invoke";
constexpr std::string_view kInvokeClose = "</｜DSML｜invoke>";
constexpr std::string_view kParamOpen = "<｜DSML｜parameter";
constexpr std::string_view kParamClose = "</｜DSML｜parameter>";

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

size_t LeadingWhitespace(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && (s[n] == ' ' || s[n] == '\n' || s[n] == '\r' || s[n] == '\t')) ++n;
  return n;
}

class DsmlScanner : public ToolCallScanner {
 public:
  void Push(std::string_view text, ToolCallSink* sink) override {
    buffer_.append(text);
    Run(false, sink);
  }
  void Finish(ToolCallSink* sink) override { Run(true, sink); }
  std::vector<std::string_view> Openers() const override { return {kBlockOpen, kInvokeOpen}; }

 private:
  enum class State { kText, kBlock, kInvoke, kMalformedInvoke };
  enum class Step { kProgress, kNeedMore, kDone };

  struct Param {
    std::string key, value;
    bool is_string;
  };

  void Run(bool final, ToolCallSink* sink) {
    for (;;) {
      Step step = Step::kDone;
      switch (state_) {
        case State::kText: step = ScanText(final, sink); break;
        case State::kBlock: step = ScanBlock(final, sink); break;
        case State::kInvoke: step = ScanInvoke(final, sink); break;
        case State::kMalformedInvoke: step = ScanMalformed(final, sink); break;
      }
      if (step != Step::kProgress) return;
    }
  }

  void Consume(size_t n, std::string* record) {
    if (record != nullptr) record->append(buffer_, 0, n);
    buffer_.erase(0, n);
  }

  Step ScanText(bool final, ToolCallSink* sink) {
    const MarkerHit hit = FindFirstMarker(buffer_, {kBlockOpen, kInvokeOpen});
    if (hit.pos != std::string::npos) {
      sink->Content(std::string_view(buffer_).substr(0, hit.pos - TrailingWhitespace(buffer_, hit.pos)));
      buffer_.erase(0, hit.pos);
      block_raw_.clear();
      state_ = State::kBlock;
      return Step::kProgress;
    }
    if (final) {
      sink->Content(buffer_);
      buffer_.clear();
      return Step::kDone;
    }
    // Hold back what could still become an opener, and the whitespace before it.
    size_t keep = buffer_.size() - PartialMarkerSuffix(buffer_, {kBlockOpen, kInvokeOpen});
    keep -= TrailingWhitespace(buffer_, keep);
    sink->Content(std::string_view(buffer_).substr(0, keep));
    buffer_.erase(0, keep);
    return Step::kDone;
  }

  Step ScanBlock(bool final, ToolCallSink* sink) {
    Consume(LeadingWhitespace(buffer_), &block_raw_);
    if (buffer_.empty()) {
      if (final) FlushBlockRaw(sink);
      return Step::kDone;
    }
    if (StartsWith(buffer_, kBlockClose)) {
      buffer_.erase(0, kBlockClose.size());
      state_ = State::kText;
      return Step::kProgress;
    }
    if (StartsWith(buffer_, kBlockOpen)) {
      Consume(kBlockOpen.size(), &block_raw_);
      return Step::kProgress;
    }
    if (StartsWith(buffer_, kInvokeOpen)) {
      // The block opener travels with the first invoke (content if that invoke is malformed).
      invoke_raw_ = block_raw_.size() != LeadingWhitespace(block_raw_) ? block_raw_ : "";
      params_.clear();
      const size_t header_end = buffer_.find("\">", kInvokeOpen.size());
      if (header_end == std::string::npos && !final) return Step::kNeedMore;
      const std::string_view header = std::string_view(buffer_).substr(kInvokeOpen.size(),
          header_end == std::string::npos ? std::string::npos : header_end - kInvokeOpen.size());
      const size_t ws = LeadingWhitespace(header);
      if (header_end == std::string::npos || ws == 0 || !StartsWith(header.substr(ws), "name=\"")) {
        state_ = State::kMalformedInvoke;
        return Step::kProgress;
      }
      name_ = std::string(header.substr(ws + 6));
      if (name_.find_first_of("<\n") != std::string::npos) {  // the `">` found belongs to a later tag
        state_ = State::kMalformedInvoke;
        return Step::kProgress;
      }
      Consume(header_end + 2, &invoke_raw_);
      state_ = State::kInvoke;
      return Step::kProgress;
    }
    if (!final && CouldBecomeMarker(buffer_, {kBlockClose, kBlockOpen, kInvokeOpen})) return Step::kNeedMore;
    // Stray text inside the block: the block is over and the text is content.
    FlushBlockRaw(sink);
    state_ = State::kText;
    return Step::kProgress;
  }

  Step ScanInvoke(bool final, ToolCallSink* sink) {
    Consume(LeadingWhitespace(buffer_), &invoke_raw_);
    if (StartsWith(buffer_, kInvokeClose)) {
      buffer_.erase(0, kInvokeClose.size());
      Commit(sink);
      return Step::kProgress;
    }
    // The next invoke, the end of the block or the end of output close an invoke cut off after a
    // complete parameter.
    if (StartsWith(buffer_, kInvokeOpen) || StartsWith(buffer_, kBlockClose) || (final && buffer_.empty())) {
      Commit(sink);
      return final && buffer_.empty() ? Step::kDone : Step::kProgress;
    }
    if (StartsWith(buffer_, kParamOpen)) {
      const size_t close = buffer_.find(kParamClose);
      if (close == std::string::npos) {
        if (!final) return Step::kNeedMore;
        state_ = State::kMalformedInvoke;
        return Step::kProgress;
      }
      Param param;
      if (!ParseParam(std::string_view(buffer_).substr(kParamOpen.size(), close - kParamOpen.size()), &param)) {
        state_ = State::kMalformedInvoke;
        return Step::kProgress;
      }
      params_.push_back(std::move(param));
      Consume(close + kParamClose.size(), &invoke_raw_);
      return Step::kProgress;
    }
    if (buffer_.empty() || (!final && CouldBecomeMarker(buffer_, {kInvokeClose, kInvokeOpen, kBlockClose, kParamOpen})))
      return Step::kNeedMore;
    state_ = State::kMalformedInvoke;
    return Step::kProgress;
  }

  // ` name="KEY" string="true|false">VALUE` (what lies between "<｜DSML｜parameter" and its close tag).
  bool ParseParam(std::string_view s, Param* out) const {
    constexpr std::string_view kName = " name=\"", kString = "\" string=\"";
    if (!StartsWith(s, kName)) return false;
    const size_t key_end = s.find(kString, kName.size());
    if (key_end == std::string_view::npos) return false;
    out->key = std::string(s.substr(kName.size(), key_end - kName.size()));
    const std::string_view rest = s.substr(key_end + kString.size());
    if (StartsWith(rest, "true\">")) {
      out->is_string = true;
      out->value = std::string(rest.substr(6));
    } else if (StartsWith(rest, "false\">")) {
      out->is_string = false;
      out->value = std::string(rest.substr(7));
    } else {
      return false;
    }
    for (const Param& p : params_)
      if (p.key == out->key) return false;  // a duplicate key cannot be one JSON object
    return true;
  }

  // A block left without any call (cut off, or stray text after the opener) keeps its markup as content.
  void FlushBlockRaw(ToolCallSink* sink) {
    if (block_raw_.size() != LeadingWhitespace(block_raw_)) sink->Content(block_raw_);
    block_raw_.clear();
  }

  // The malformed invoke runs to its close tag, or to the next invoke / end of block / end of output.
  Step ScanMalformed(bool final, ToolCallSink* sink) {
    const size_t skip = StartsWith(buffer_, kInvokeOpen) ? kInvokeOpen.size() : 0;  // not at our own opener
    const MarkerHit hit = FindFirstMarker(std::string_view(buffer_).substr(skip), {kInvokeClose, kInvokeOpen, kBlockClose});
    size_t end;
    if (hit.pos != std::string::npos) {
      end = skip + hit.pos + (hit.marker == kInvokeClose ? kInvokeClose.size() : 0);
    } else if (final) {
      end = buffer_.size();
    } else {
      return Step::kNeedMore;
    }
    Consume(end, &invoke_raw_);
    sink->Content(invoke_raw_);
    invoke_raw_.clear();
    block_raw_.clear();
    state_ = State::kBlock;
    return Step::kProgress;
  }

  void Commit(ToolCallSink* sink) {
    std::string arguments = "{";
    for (size_t i = 0; i < params_.size(); ++i) {
      if (i > 0) arguments += ", ";
      arguments += PythonJsonDumps(params_[i].key) + ": " +
                   (params_[i].is_string ? PythonJsonDumps(params_[i].value) : params_[i].value);
    }
    arguments += "}";
    sink->ToolCall(std::move(name_), std::move(arguments));
    name_.clear();
    params_.clear();
    invoke_raw_.clear();
    block_raw_.clear();
    state_ = State::kBlock;
  }

  State state_ = State::kText;
  std::string buffer_;      // unconsumed text
  std::string block_raw_;   // block markup since the last call: returned with a malformed invoke
  std::string invoke_raw_;  // text of the current invoke so far
  std::string name_;
  std::vector<Param> params_;
};

}  // namespace

std::unique_ptr<ToolCallScanner> MakeDsmlToolCallScanner() { return std::make_unique<DsmlScanner>(); }

}  // namespace sieve::text
