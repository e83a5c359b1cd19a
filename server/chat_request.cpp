#include "server/chat_request.h"

#include <fmt/format.h>

#include "server/completion_request.h"
#include "server/sampling_fields.h"
#include "text/tokenizer.h"

namespace sieve::server {

namespace {

// Each tool must be {"type": "function", "function": {"name": str, "parameters"?: object, ...}}.
StatusOr<std::vector<std::string>> ReadToolNames(const Json& body) {
  std::vector<std::string> names;
  const Json* tools = FindField(body, "tools");
  if (tools == nullptr) return names;
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
    names.push_back(*name);
  }
  return names;
}

// tool_choice: "none" | "auto" | "required" | {"type": "function", "function": {"name": ...}}. Returns
// whether tool calls are parsed from the output. Required and named choices are not enforced by
// constrained decoding (Sieve has none yet): the model's calls are parsed as with "auto".
StatusOr<bool> ReadToolChoice(const Json& body, const std::vector<std::string>& tool_names, const ChatSettings& settings) {
  const Json* choice = FindField(body, "tool_choice");
  std::string mode = tool_names.empty() ? "none" : "auto";
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
    if (std::find(tool_names.begin(), tool_names.end(), name->get<std::string>()) == tool_names.end())
      return Status::InvalidArgument(fmt::format("tool_choice names '{}', which is not in tools", name->get<std::string>()))
          .WithParam("tool_choice");
    mode = "named";
  }
  if (mode == "none") return false;
  if (tool_names.empty())
    return Status::InvalidArgument(fmt::format("tool_choice '{}' needs 'tools'", mode)).WithParam("tool_choice");
  if (settings.tool_call_format == text::ToolCallFormat::kNone)
    return Status::InvalidArgument("tool calling needs the server to be started with --tool-call-parser")
        .WithParam("tool_choice");
  if (mode == "auto" && !settings.enable_auto_tool_choice)
    return Status::InvalidArgument("\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser")
        .WithParam("tool_choice");
  return true;
}

Status ReadResponseFormat(const Json& body) {
  const Json* format = FindField(body, "response_format");
  if (format == nullptr) return Status::Ok();
  if (!format->is_object()) return Status::InvalidArgument("'response_format' must be an object").WithParam("response_format");
  SIEVE_ASSIGN_OR_RETURN(const auto type, OptionalString(*format, "type", "response_format.type"));
  if (!type || (*type != "text" && *type != "json_object" && *type != "json_schema"))
    return Status::InvalidArgument("response_format.type must be text, json_object or json_schema")
        .WithParam("response_format.type");
  return Status::Ok();
}

}  // namespace

StatusOr<ChatRequest> ParseChatRequest(const Json& body, const ServingLimits& limits, const ChatSettings& settings) {
  SIEVE_RETURN_IF_ERROR(CheckModelName(body, limits));
  if (limits.tokenizer == nullptr)
    return Status::FailedPrecondition("chat completions need a tokenizer; this checkpoint has none").WithParam("messages");
  ChatRequest r;
  SIEVE_ASSIGN_OR_RETURN(const std::vector<std::string> tool_names, ReadToolNames(body));
  // Messages first: they hold most mistakes, and the encoder refuses tools for Speciale by name.
  SIEVE_ASSIGN_OR_RETURN(const text::ChatPrompt prompt, text::EncodeChat(body, settings.family, settings.chat_options));
  SIEVE_ASSIGN_OR_RETURN(const bool parse_tools, ReadToolChoice(body, tool_names, settings));
  SIEVE_RETURN_IF_ERROR(ReadResponseFormat(body));
  r.prompt_ids = limits.tokenizer->Encode(prompt.text);
  r.parser.parse_reasoning = settings.parse_reasoning;
  r.parser.starts_in_thinking = prompt.starts_in_thinking;
  r.parser.tool_call_format = parse_tools ? settings.tool_call_format : text::ToolCallFormat::kNone;

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
