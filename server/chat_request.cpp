#include "server/chat_request.h"

#include <fmt/format.h>

#include <algorithm>

#include "server/completion_request.h"
#include "server/sampling_fields.h"
#include "text/tokenizer.h"

namespace sieve::server {

namespace {

// Each tool must be {"type": "function", "function": {"name": str, "parameters"?: object, ...}}.
StatusOr<std::vector<ToolSpec>> ReadTools(const Json& body) {
  std::vector<ToolSpec> specs;
  const Json* tools = FindField(body, "tools");
  if (tools == nullptr) return specs;
  if (!tools->is_array()) return Status::InvalidArgument("'tools' must be a list").WithParam("tools");
  for (size_t i = 0; i < tools->size(); ++i) {
    const Json& tool = (*tools)[i];
    const std::string at = fmt::format("tools[{}]", i);
    if (!tool.is_object()) return Status::InvalidArgument("each tool must be an object").WithParam(at);
    SIEVE_ASSIGN_OR_RETURN(const auto type, OptionalString(tool, "type", at + ".type"));
    if (type.value_or("function") != "function")
      return Status::InvalidArgument(fmt::format("tool type must be 'function', got '{}'", *type)).WithParam(at + ".type");
    const Json* fn = FindField(tool, "function");
    if (fn == nullptr || !fn->is_object())
      return Status::InvalidArgument("a tool needs a 'function' object").WithParam(at + ".function");
    SIEVE_ASSIGN_OR_RETURN(const auto name, OptionalString(*fn, "name", at + ".function.name"));
    if (!name || name->empty())
      return Status::InvalidArgument("a tool function needs a non-empty 'name'").WithParam(at + ".function.name");
    const Json* parameters = FindField(*fn, "parameters");
    if (parameters != nullptr && !parameters->is_object())
      return Status::InvalidArgument("function 'parameters' must be a JSON Schema object")
          .WithParam(at + ".function.parameters");
    specs.push_back({*name, parameters != nullptr ? *parameters : Json{{"type", "object"}, {"properties", Json::object()}}});
  }
  return specs;
}

struct ToolChoice {
  bool parse_tools = false;  // "auto": tool calls are parsed from the model's own format
  ForcedToolChoice forced = ForcedToolChoice::kNone;
  std::string name;          // kNamed
};

// tool_choice: "none" | "auto" | "required" | {"type": "function", "function": {"name": ...}}. Named and
// "required" are enforced by structured outputs (no tool parser needed, as in vLLM); "auto" needs
// --enable-auto-tool-choice and --tool-call-parser.
StatusOr<ToolChoice> ReadToolChoice(const Json& body, const std::vector<ToolSpec>& tools, const ChatSettings& settings) {
  const Json* choice = FindField(body, "tool_choice");
  std::string mode = tools.empty() ? "none" : "auto";
  ToolChoice out;
  if (choice != nullptr && choice->is_string()) {
    mode = choice->get<std::string>();
    if (mode != "none" && mode != "auto" && mode != "required")
      return Status::InvalidArgument(fmt::format("tool_choice must be none, auto, required or a named function, got '{}'", mode))
          .WithParam("tool_choice");
  } else if (choice != nullptr) {
    const Json* fn = choice->is_object() ? FindField(*choice, "function") : nullptr;
    const Json* name = fn != nullptr && fn->is_object() ? FindField(*fn, "name") : nullptr;
    if (name == nullptr || !name->is_string())
      return Status::InvalidArgument("a named tool_choice is {\"type\": \"function\", \"function\": {\"name\": ...}}")
          .WithParam("tool_choice");
    out.name = name->get<std::string>();
    if (std::none_of(tools.begin(), tools.end(), [&](const ToolSpec& t) { return t.name == out.name; }))
      return Status::InvalidArgument(fmt::format("tool_choice names '{}', which is not in tools", out.name))
          .WithParam("tool_choice");
    mode = "named";
  }
  if (mode == "none") return out;
  if (tools.empty())
    return Status::InvalidArgument(fmt::format("tool_choice '{}' needs 'tools'", mode)).WithParam("tool_choice");
  if (mode == "named") {
    out.forced = ForcedToolChoice::kNamed;
    return out;
  }
  if (mode == "required") {
    out.forced = ForcedToolChoice::kRequired;
    return out;
  }
  if (settings.tool_call_format == text::ToolCallFormat::kNone)
    return Status::InvalidArgument("tool calling needs the server to be started with --tool-call-parser")
        .WithParam("tool_choice");
  if (!settings.enable_auto_tool_choice)
    return Status::InvalidArgument("\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser")
        .WithParam("tool_choice");
  out.parse_tools = true;
  return out;
}

}  // namespace

StatusOr<ChatRequest> ParseChatRequest(const Json& body, const ServingLimits& limits, const ChatSettings& settings) {
  SIEVE_RETURN_IF_ERROR(CheckModelName(body, limits));
  if (limits.tokenizer == nullptr)
    return Status::FailedPrecondition("chat completions need a tokenizer; this checkpoint has none").WithParam("messages");
  ChatRequest r;
  SIEVE_ASSIGN_OR_RETURN(const std::vector<ToolSpec> tools, ReadTools(body));
  // Messages first: they hold most mistakes, and the encoder refuses tools for Speciale by name.
  SIEVE_ASSIGN_OR_RETURN(const text::ChatPrompt prompt, text::EncodeChat(body, settings.family, settings.chat_options));
  SIEVE_ASSIGN_OR_RETURN(const ToolChoice tool_choice, ReadToolChoice(body, tools, settings));
  SIEVE_ASSIGN_OR_RETURN(const StructuredOutput structured,
                         ReadStructuredOutput(body, tools, tool_choice.forced, tool_choice.name));
  r.prompt_ids = limits.tokenizer->Encode(prompt.text);
  r.parser.parse_reasoning = settings.parse_reasoning;
  r.parser.starts_in_thinking = prompt.starts_in_thinking;
  r.parser.tool_call_format = tool_choice.parse_tools ? settings.tool_call_format : text::ToolCallFormat::kNone;
  r.forced_tool_choice = structured.forced;
  r.forced_tool_name = structured.forced_name;
  r.params.json_grammar = structured.grammar;
  // In thinking mode the document starts after the reasoning ends (vLLM: the reasoning parser's
  // is_reasoning_end gates the grammar).
  if (structured.grammar && prompt.starts_in_thinking) r.params.grammar_after_token_id = limits.tokenizer->TokenToId("</think>");

  SIEVE_RETURN_IF_ERROR(ReadSamplingFields(body, &r.params));
  SIEVE_RETURN_IF_ERROR(ReadChoiceCount(body, &r.params));
  SIEVE_RETURN_IF_ERROR(ReadStreamFields(body, &r.stream, &r.include_usage));
  SIEVE_ASSIGN_OR_RETURN(const auto logprobs, OptionalBool(body, "logprobs"));
  SIEVE_ASSIGN_OR_RETURN(const auto top_logprobs, OptionalInt(body, "top_logprobs"));
  r.logprobs = logprobs.value_or(false);
  if (top_logprobs && (*top_logprobs < 0 || *top_logprobs > 20))
    return Status::InvalidArgument(fmt::format("top_logprobs must be in [0, 20], got {}", *top_logprobs)).WithParam("top_logprobs");
  if (top_logprobs && !r.logprobs)
    return Status::InvalidArgument("top_logprobs needs logprobs set to true").WithParam("top_logprobs");
  if (r.logprobs) r.params.logprobs = static_cast<int>(top_logprobs.value_or(0));

  // max_completion_tokens replaces the deprecated max_tokens; either may be sent.
  SIEVE_ASSIGN_OR_RETURN(const auto max_completion, OptionalInt(body, "max_completion_tokens"));
  SIEVE_ASSIGN_OR_RETURN(const auto max_tokens, OptionalInt(body, "max_tokens"));
  const char* param = max_completion ? "max_completion_tokens" : "max_tokens";
  SIEVE_ASSIGN_OR_RETURN(r.params.max_tokens,
                         ResolveMaxTokens(max_completion ? max_completion : max_tokens, param,
                                          static_cast<int64_t>(r.prompt_ids.size()), limits.max_model_len, "messages"));
  return r;
}

}  // namespace sieve::server
