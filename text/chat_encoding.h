// Turns an OpenAI chat request (messages, tools, chat_template_kwargs) into the prompt string for the
// model family being served, and says whether generation starts inside a thinking block (the reasoning
// parser needs that per request). Used by the server and `sieve chat-encode`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sieve::text {

enum class ChatFamily {
  kDeepseekV32,          // encoding_dsv32 (DSML tool calls), thinking on/off
  kDeepseekV32Exp,       // the V3.2-Exp / V3.1-Terminus Jinja template (V3.1-style tool calls)
  kDeepseekV32Speciale,  // encoding_dsv32, thinking by default, no tool calling
};

const char* ChatFamilyName(ChatFamily family);

// `--tokenizer-mode` as in vLLM: "deepseek_v32" forces the V3.2 encoder; "auto" (or "") returns nullopt
// so the caller detects the family; anything else is InvalidArgument.
StatusOr<std::optional<ChatFamily>> ChatFamilyFromTokenizerMode(std::string_view mode);

// Chooses the family from the checkpoint. config.json cannot tell them apart (V3.2-Exp, V3.2 and
// V3.2-Speciale all say model_type deepseek_v32), so: a tokenizer_config.json with a `chat_template`
// is the V3.2-Exp template (V3.2 ships a Python encoder instead of a template, which is why vLLM needs
// --tokenizer-mode deepseek_v32 for it); otherwise the V3.2 encoder, as Speciale when the model's
// folder name says so. `tokenizer_dir` holds tokenizer_config.json (optional).
ChatFamily DetectChatFamily(const std::string& model_dir, const std::string& tokenizer_dir);

struct ChatOptions {
  bool default_thinking = false;  // when the request does not say (Speciale always defaults to true)
  bool add_generation_prompt = true;  // V3.2-Exp only: V3.2's format always ends ready for the assistant
};

struct ChatPrompt {
  std::string text;
  // The prompt ends with <think>: the first generated tokens are reasoning.
  bool starts_in_thinking = false;
};

// `request` is the OpenAI request body parsed with key order kept (tool schemas and arguments are
// rendered in the order the client sent them). Thinking comes from chat_template_kwargs.thinking, or
// chat_template_kwargs.enable_thinking as SGLang users send it. Errors are InvalidArgument with `param`
// naming the request field ("messages[2].role").
StatusOr<ChatPrompt> EncodeChat(const nlohmann::ordered_json& request, ChatFamily family, const ChatOptions& options);

}  // namespace sieve::text
