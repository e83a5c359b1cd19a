// Request -> prompt for each DeepSeek-V3.2 family member, and family detection.
#include "text/chat_encoding.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "text/dsv32_encoding.h"
#include "text/v32exp_template.h"

namespace sieve::text {
namespace {

using Json = nlohmann::ordered_json;

StatusOr<bool> ThinkingFlag(const Json& request, bool fallback) {
  const auto kwargs = request.find("chat_template_kwargs");
  if (kwargs == request.end() || kwargs->is_null()) return fallback;
  if (!kwargs->is_object())
    return Status::InvalidArgument("chat_template_kwargs must be an object").WithParam("chat_template_kwargs");
  for (const char* key : {"thinking", "enable_thinking"}) {
    const auto it = kwargs->find(key);
    if (it == kwargs->end() || it->is_null()) continue;
    if (!it->is_boolean())
      return Status::InvalidArgument(fmt::format("{} must be true or false", key))
          .WithParam(fmt::format("chat_template_kwargs.{}", key));
    return it->get<bool>();
  }
  return fallback;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const char* ChatFamilyName(ChatFamily family) {
  switch (family) {
    case ChatFamily::kDeepseekV32: return "deepseek_v32";
    case ChatFamily::kDeepseekV32Exp: return "deepseek_v32_exp";
    case ChatFamily::kDeepseekV32Speciale: return "deepseek_v32_speciale";
  }
  return "unknown";
}

StatusOr<std::optional<ChatFamily>> ChatFamilyFromTokenizerMode(std::string_view mode) {
  if (mode.empty() || mode == "auto") return std::optional<ChatFamily>();
  if (mode == "deepseek_v32") return std::optional<ChatFamily>(ChatFamily::kDeepseekV32);
  return Status::InvalidArgument(fmt::format("unknown tokenizer mode '{}' (expected auto or deepseek_v32)", mode))
      .WithParam("tokenizer_mode");
}

ChatFamily DetectChatFamily(const std::string& model_dir, const std::string& tokenizer_dir) {
  std::ifstream in(std::filesystem::path(tokenizer_dir) / "tokenizer_config.json");
  if (in) {
    const Json config = Json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (config.is_object() && config.contains("chat_template")) return ChatFamily::kDeepseekV32Exp;
  }
  std::filesystem::path dir = std::filesystem::path(model_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "…/DeepSeek-V3.2-Speciale/"
  const std::string name = Lower(dir.filename().string());
  return name.find("speciale") != std::string::npos ? ChatFamily::kDeepseekV32Speciale : ChatFamily::kDeepseekV32;
}

StatusOr<ChatPrompt> EncodeChat(const Json& request, ChatFamily family, const ChatOptions& options) {
  if (!request.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  const auto messages = request.find("messages");
  if (messages == request.end() || !messages->is_array() || messages->empty())
    return Status::InvalidArgument("messages must be a non-empty list").WithParam("messages");
  const auto tools_it = request.find("tools");
  const Json* tools = tools_it != request.end() && !tools_it->is_null() ? &*tools_it : nullptr;
  if (tools != nullptr && !tools->is_array()) return Status::InvalidArgument("tools must be a list").WithParam("tools");
  if (family == ChatFamily::kDeepseekV32Speciale && tools != nullptr && !tools->empty())
    return Status::InvalidArgument("DeepSeek-V3.2-Speciale does not support tool calling; remove 'tools'")
        .WithParam("tools");
  const bool default_thinking = family == ChatFamily::kDeepseekV32Speciale || options.default_thinking;
  SIEVE_ASSIGN_OR_RETURN(const bool thinking, ThinkingFlag(request, default_thinking));

  ChatPrompt prompt;
  if (family == ChatFamily::kDeepseekV32Exp) {
    // The template ignores `tools`: V3.2-Exp expects tool descriptions in the system prompt.
    SIEVE_ASSIGN_OR_RETURN(prompt.text, RenderV32ExpTemplate(*messages, options.add_generation_prompt, thinking));
  } else {
    Dsv32EncodeInput input;
    input.messages = &*messages;
    input.tools = tools;
    input.thinking_mode = thinking ? "thinking" : "chat";
    SIEVE_ASSIGN_OR_RETURN(prompt.text, EncodeDsv32Messages(input));
  }
  constexpr std::string_view kThinkStart = "<think>";
  prompt.starts_in_thinking = prompt.text.size() >= kThinkStart.size() &&
                              prompt.text.compare(prompt.text.size() - kThinkStart.size(), kThinkStart.size(),
                                                  kThinkStart) == 0;
  return prompt;
}

}  // namespace sieve::text
