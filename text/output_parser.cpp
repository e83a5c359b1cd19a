// Output parsing pipeline: end-of-sentence filter -> reasoning split -> tool-call scanner -> deltas.
#include "text/output_parser.h"

#include <fmt/format.h>

#include "text/dsml_tool_parser.h"
#include "text/marker_scan.h"
#include "text/reasoning_parser.h"
#include "text/v31_tool_parser.h"

namespace sieve::text {
namespace {
// The engine stops on EOS and normally never detokenizes it, but raw completions (and the reference
// fixtures) end with its text; one at the very end is dropped, one in the middle is kept as text.
constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
}  // namespace

StatusOr<ToolCallFormat> ToolCallFormatFromName(std::string_view name) {
  if (name.empty() || name == "none") return ToolCallFormat::kNone;
  if (name == "deepseekv32" || name == "deepseek_v32") return ToolCallFormat::kDsml;
  if (name == "deepseekv31" || name == "deepseek_v31") return ToolCallFormat::kV31;
  return Status::InvalidArgument(fmt::format("unknown tool-call parser '{}' (expected deepseekv32 or deepseekv31)", name));
}

StatusOr<bool> ReasoningParserFromName(std::string_view name) {
  if (name.empty() || name == "none") return false;
  if (name == "deepseek-v3" || name == "deepseek_v3") return true;
  return Status::InvalidArgument(fmt::format("unknown reasoning parser '{}' (expected deepseek-v3)", name));
}

// Collects scanner output into deltas, merging consecutive text of the same kind.
class OutputParser::Sink : public ToolCallSink {
 public:
  explicit Sink(OutputParser* parser) : parser_(parser) {}
  void Reasoning(std::string_view text) {
    if (text.empty()) return;
    if (deltas_.empty() || !deltas_.back().content.empty() || !deltas_.back().tool_calls.empty()) deltas_.emplace_back();
    deltas_.back().reasoning_content.append(text);
  }
  void Content(std::string_view text) override {
    if (text.empty()) return;
    if (deltas_.empty() || !deltas_.back().reasoning_content.empty() || !deltas_.back().tool_calls.empty())
      deltas_.emplace_back();
    deltas_.back().content.append(text);
  }
  void ToolCall(std::string name, std::string arguments) override {
    ToolCallDelta call;
    call.index = parser_->num_tool_calls_++;
    call.id = fmt::format("chatcmpl-tool-{:016x}", parser_->id_rng_());
    call.name = std::move(name);
    call.arguments = std::move(arguments);
    deltas_.emplace_back().tool_calls.push_back(std::move(call));
  }
  std::vector<MessageDelta> Take() { return std::move(deltas_); }

 private:
  OutputParser* parser_;
  std::vector<MessageDelta> deltas_;
};

OutputParser::OutputParser(const OutputParserOptions& options)
    : id_rng_(options.tool_call_id_seed != 0 ? options.tool_call_id_seed : std::random_device{}()) {
  if (options.tool_call_format == ToolCallFormat::kDsml) tools_ = MakeDsmlToolCallScanner();
  if (options.tool_call_format == ToolCallFormat::kV31) tools_ = MakeV31ToolCallScanner();
  reasoning_ = std::make_unique<ReasoningSplitter>(options.parse_reasoning && options.starts_in_thinking,
                                                   tools_ ? tools_->Openers() : std::vector<std::string_view>{});
}

OutputParser::~OutputParser() = default;

std::vector<MessageDelta> OutputParser::Push(std::string_view text) { return Feed(text, false); }

std::vector<MessageDelta> OutputParser::Finish() { return Feed({}, true); }

std::vector<MessageDelta> OutputParser::Feed(std::string_view text, bool final) {
  eos_tail_.append(text);
  const bool ends_with_eos =
      eos_tail_.size() >= kEos.size() && eos_tail_.compare(eos_tail_.size() - kEos.size(), kEos.size(), kEos) == 0;
  size_t hold = ends_with_eos ? kEos.size() : PartialMarkerSuffix(eos_tail_, {kEos});
  if (final) {
    if (ends_with_eos) eos_tail_.resize(eos_tail_.size() - kEos.size());
    hold = 0;
  }
  const std::string ready = eos_tail_.substr(0, eos_tail_.size() - hold);
  eos_tail_.erase(0, eos_tail_.size() - hold);

  Sink sink(this);
  ReasoningSplitter::Split split = reasoning_->Push(ready);
  if (final) {
    ReasoningSplitter::Split rest = reasoning_->Finish();
    split.reasoning += rest.reasoning;
    split.content += rest.content;
  }
  sink.Reasoning(split.reasoning);
  if (tools_) {
    tools_->Push(split.content, &sink);
    if (final) tools_->Finish(&sink);
  } else {
    sink.Content(split.content);
  }
  return sink.Take();
}

void AccumulateDelta(const MessageDelta& delta, ParsedMessage* message) {
  message->reasoning_content += delta.reasoning_content;
  message->content += delta.content;
  for (const ToolCallDelta& call : delta.tool_calls) {
    if (call.index >= static_cast<int>(message->tool_calls.size())) message->tool_calls.resize(call.index + 1);
    ToolCall& out = message->tool_calls[call.index];
    if (!call.id.empty()) out.id = call.id;
    out.name += call.name;
    out.arguments += call.arguments;
  }
}

ParsedMessage ParseCompletion(std::string_view text, const OutputParserOptions& options) {
  OutputParser parser(options);
  ParsedMessage message;
  for (const MessageDelta& d : parser.Push(text)) AccumulateDelta(d, &message);
  for (const MessageDelta& d : parser.Finish()) AccumulateDelta(d, &message);
  return message;
}

}  // namespace sieve::text
