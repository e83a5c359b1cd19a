// DeepSeek-V3.2's own prompt format (the behaviour of encoding/encoding_dsv32.py `encode_messages` in the
// deepseek-ai/DeepSeek-V3.2 Hugging Face repo): system text, <｜User｜>…<｜Assistant｜> turns closed by
// <think> or </think>, assistant turns with reasoning and DSML tool calls, tool results in
// <function_results>. Messages are OpenAI-style; tools and response_format may sit on a system or
// developer message, as that encoder expects.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sieve::text {

struct Dsv32EncodeInput {
  const nlohmann::ordered_json* messages = nullptr;  // the messages to render
  const nlohmann::ordered_json* context = nullptr;   // earlier messages already in the KV cache, or null
  // Request-level `tools` rendered as a content-less system message before `messages` (how vLLM's
  // deepseek_v32 tokenizer injects them), or null.
  const nlohmann::ordered_json* tools = nullptr;
  std::string_view thinking_mode = "chat";  // "chat" or "thinking"
  bool add_default_bos_token = true;
};

StatusOr<std::string> EncodeDsv32Messages(const Dsv32EncodeInput& input);

// The DSML markers, shared with the DSML output parser.
inline constexpr std::string_view kDsmlToken = "｜DSML｜";

}  // namespace sieve::text
