// Chat request parsing and validation.
#include "server/chat_request.h"

#include <fmt/format.h>

#include "server/sampling_fields.h"
#include "server/tool_choice.h"
#include "text/chat_encoding.h"

namespace sieve::server {

namespace {

// response_format: "text" and "json_object" are accepted (json_object is not enforced by constrained
// decoding); "json_schema" needs structured outputs, which Sieve does not have.
Status CheckResponseFormat(const Json& body) {
  const Json* format = FindField(body, "response_format");
  if (format == nullptr) return Status::Ok();
  if (!format->is_object()) return WrongType("response_format", "an object", *format);
  SIEVE_ASSIGN_OR_RETURN(const std::optional<std::string> type, StringField(*format, "type"));
  if (type == "text" || type == "json_object") return Status::Ok();
  return Status::InvalidArgument(fmt::format("response_format type '{}' is not supported (use text or json_object)",
                                             type.value_or("")))
      .WithParam("response_format.type");
}

}  // namespace

StatusOr<ChatRequest> ParseChatRequest(const Json& body, const std::string& request_id, const ServingContext& context) {
  SIEVE_RETURN_IF_ERROR(CheckModel(body, context));
  const Json* messages = FindField(body, "messages");
  if (messages == nullptr || !messages->is_array() || messages->empty())
    return Status::InvalidArgument("'messages' must be a non-empty list").WithParam("messages");
  SIEVE_ASSIGN_OR_RETURN(const ToolPlan tools, PlanTools(body, context));
  SIEVE_RETURN_IF_ERROR(CheckResponseFormat(body));
  if (const Json* kwargs = FindField(body, "chat_template_kwargs"); kwargs != nullptr && !kwargs->is_object())
    return WrongType("chat_template_kwargs", "an object", *kwargs);

  ChatRequest out;
  engine::SamplingParams& params = out.request.params;
  SIEVE_RETURN_IF_ERROR(ReadSamplingFields(body, &params));
  SIEVE_ASSIGN_OR_RETURN(out.stream, ReadStreamOptions(body));
  SIEVE_ASSIGN_OR_RETURN(const std::optional<bool> logprobs, BoolField(body, "logprobs"));
  SIEVE_ASSIGN_OR_RETURN(const std::optional<int64_t> top_logprobs, IntField(body, "top_logprobs"));
  out.logprobs = logprobs.value_or(false);
  if (top_logprobs && !out.logprobs)
    return Status::InvalidArgument("'top_logprobs' needs logprobs=true").WithParam("top_logprobs");
  if (top_logprobs && (*top_logprobs < 0 || *top_logprobs > engine::kMaxLogprobs))
    return Status::InvalidArgument(fmt::format("'top_logprobs' must be in [0, {}], got {}", engine::kMaxLogprobs, *top_logprobs))
        .WithParam("top_logprobs");
  if (out.logprobs) params.logprobs = static_cast<int>(top_logprobs.value_or(0));

  // The encoder reads `tools` from the body: give it only the ones tool_choice allows.
  Json encode_body = body;
  if (tools.prompt_tools) {
    encode_body["tools"] = *tools.prompt_tools;
  } else {
    encode_body.erase("tools");
  }
  SIEVE_ASSIGN_OR_RETURN(const text::ChatPrompt prompt, text::EncodeChat(encode_body, context.chat_family, {}));
  // The encoded prompt starts with the BOS token's text, so it is not added again.
  out.request.prompt_ids = context.tokenizer->Encode(prompt.text);
  const int64_t prompt_tokens = static_cast<int64_t>(out.request.prompt_ids.size());
  if (prompt_tokens >= context.limits.max_model_len)
    return Status::InvalidArgument(fmt::format("This model's maximum context length is {} tokens. However, your "
                                               "messages resulted in {} tokens, leaving no room for the completion.",
                                               context.limits.max_model_len, prompt_tokens))
        .WithParam("messages");
  // max_completion_tokens is OpenAI's current name; max_tokens the deprecated one lm-eval and SGLang send.
  SIEVE_ASSIGN_OR_RETURN(const std::optional<int64_t> max_completion_tokens, IntField(body, "max_completion_tokens"));
  SIEVE_ASSIGN_OR_RETURN(const std::optional<int64_t> max_tokens, IntField(body, "max_tokens"));
  const char* max_param = max_completion_tokens ? "max_completion_tokens" : "max_tokens";
  SIEVE_ASSIGN_OR_RETURN(params.max_tokens,
                         ResolveMaxTokens(max_completion_tokens ? max_completion_tokens : max_tokens, max_param,
                                          prompt_tokens, std::nullopt, context));
  out.request.request_id = request_id;
  if (Status s = engine::ValidateRequest(out.request, context.limits); !s.ok()) {
    if (s.param() == "prompt") return Status(s.code(), s.message()).WithParam("messages");
    return s;
  }
  out.parser.parse_reasoning = context.parse_reasoning;
  out.parser.starts_in_thinking = prompt.starts_in_thinking;
  out.parser.tool_call_format = tools.parse_tool_calls ? context.tool_call_format : text::ToolCallFormat::kNone;
  return out;
}

}  // namespace sieve::server
