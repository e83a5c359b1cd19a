// POST /v1/chat/completions request -> the encoded prompt, sampling parameters and how to parse the
// output (reasoning, tool calls). Messages are rendered by text::EncodeChat for the served family.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/engine.h"
#include "server/forced_tool_calls.h"
#include "server/json_fields.h"
#include "server/structured_output.h"
#include "server/serving_limits.h"
#include "text/chat_encoding.h"
#include "text/output_parser.h"

namespace sieve::server {

// How the server was started: which chat format, parsers and tool choice it offers.
struct ChatSettings {
  text::ChatFamily family = text::ChatFamily::kDeepseekV32;
  text::ChatOptions chat_options;
  bool parse_reasoning = false;                                 // --reasoning-parser
  text::ToolCallFormat tool_call_format = text::ToolCallFormat::kNone;  // --tool-call-parser
  bool enable_auto_tool_choice = false;                         // --enable-auto-tool-choice
};

struct ChatRequest {
  std::vector<int32_t> prompt_ids;
  engine::SamplingParams params;
  text::OutputParserOptions parser;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;  // chat's logprobs is a flag; the count is top_logprobs
  // tool_choice named / "required": the constrained content becomes tool calls (forced_tool_calls.h).
  ForcedToolChoice forced_tool_choice = ForcedToolChoice::kNone;
  std::string forced_tool_name;
};

StatusOr<ChatRequest> ParseChatRequest(const Json& body, const ServingLimits& limits, const ChatSettings& settings);

}  // namespace sieve::server
