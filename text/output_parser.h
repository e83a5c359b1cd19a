// Turns generated text into an OpenAI assistant message: reasoning_content, content and tool_calls.
// One OutputParser per choice; Push() takes each new piece of detokenized text and returns the OpenAI
// stream deltas it makes final, Finish() flushes at the end. ParseCompletion() is the non-streaming form
// and gives exactly the concatenation of the streamed deltas, however the text was cut.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sieve::text {

class ReasoningSplitter;
class ToolCallScanner;

enum class ToolCallFormat { kNone, kDsml, kV31 };

// `--tool-call-parser` names as in vLLM: "deepseekv32" (DSML), "deepseekv31"; "" or "none" for none.
StatusOr<ToolCallFormat> ToolCallFormatFromName(std::string_view name);
// `--reasoning-parser`: "deepseek-v3" / "deepseek_v3" -> true; "" or "none" -> false.
StatusOr<bool> ReasoningParserFromName(std::string_view name);

struct OutputParserOptions {
  bool parse_reasoning = true;     // --reasoning-parser deepseek-v3
  bool starts_in_thinking = false; // from text::ChatPrompt::starts_in_thinking of this request
  ToolCallFormat tool_call_format = ToolCallFormat::kNone;
  // Tool call ids are "chatcmpl-tool-<16 hex>" from this seed; 0 draws a random seed.
  uint64_t tool_call_id_seed = 0;
};

struct ToolCallDelta {
  int index = 0;
  std::string id;    // set on the first delta of a call only
  std::string name;  // set on the first delta of a call only
  std::string arguments;  // a fragment of the arguments JSON text
};

struct MessageDelta {
  std::string reasoning_content;
  std::string content;
  std::vector<ToolCallDelta> tool_calls;
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text (invalid JSON is passed through as the model wrote it)
};

struct ParsedMessage {
  std::string reasoning_content;
  std::string content;
  std::vector<ToolCall> tool_calls;
};

class OutputParser {
 public:
  explicit OutputParser(const OutputParserOptions& options);
  ~OutputParser();

  std::vector<MessageDelta> Push(std::string_view text);
  std::vector<MessageDelta> Finish();
  // True once a tool call was produced: the choice finishes with finish_reason "tool_calls".
  bool made_tool_calls() const { return num_tool_calls_ > 0; }

 private:
  class Sink;
  std::vector<MessageDelta> Feed(std::string_view text, bool final);

  std::unique_ptr<ReasoningSplitter> reasoning_;
  std::unique_ptr<ToolCallScanner> tools_;  // null without a tool-call format
  std::string eos_tail_;  // a possible end-of-sentence marker at the end of the text so far
  int num_tool_calls_ = 0;
  std::mt19937_64 id_rng_;
};

ParsedMessage ParseCompletion(std::string_view text, const OutputParserOptions& options);

// Appends `delta` to `message`, as a client assembling a stream would.
void AccumulateDelta(const MessageDelta& delta, ParsedMessage* message);

}  // namespace sieve::text
