// Completion request parsing and validation.
#include "server/completion_request.h"

#include <fmt/format.h>

#include "server/sampling_fields.h"

namespace sieve::server {

namespace {

// vLLM's default max_tokens for /v1/completions (the OpenAI legacy default).
constexpr int64_t kDefaultCompletionMaxTokens = 16;

StatusOr<std::vector<int32_t>> TokenIds(const Json& list, const std::string& param) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::optional<int64_t> id = AsInt(list[i]);
    if (!id || *id < 0 || *id > INT32_MAX) return WrongType(fmt::format("{}[{}]", param, i), "a token id", list[i]);
    ids.push_back(static_cast<int32_t>(*id));
  }
  if (ids.empty()) return Status::InvalidArgument(fmt::format("'{}' is an empty token list", param)).WithParam(param);
  return ids;
}

// Text prompts get BOS first, as vLLM's add_special_tokens=True does with the DeepSeek tokenizer.
std::vector<int32_t> EncodeText(const std::string& text, const ServingContext& context) {
  std::vector<int32_t> ids = {context.bos_token_id};
  for (int32_t id : context.tokenizer->Encode(text)) ids.push_back(id);
  return ids;
}

// Every prompt as token ids, in order.
StatusOr<std::vector<std::vector<int32_t>>> ReadPrompts(const Json& body, const ServingContext& context) {
  const Json* prompt = FindField(body, "prompt");
  if (prompt == nullptr) return Status::InvalidArgument("'prompt' is required").WithParam("prompt");
  constexpr const char* kShapes = "a string, a list of strings, a list of token ids or a list of token-id lists";
  std::vector<std::vector<int32_t>> prompts;
  if (prompt->is_string()) {
    prompts.push_back(EncodeText(prompt->get<std::string>(), context));
    return prompts;
  }
  if (!prompt->is_array()) return WrongType("prompt", kShapes, *prompt);
  if (prompt->empty()) return Status::InvalidArgument("'prompt' is an empty list").WithParam("prompt");
  if (AsInt((*prompt)[0])) {
    SIEVE_ASSIGN_OR_RETURN(std::vector<int32_t> ids, TokenIds(*prompt, "prompt"));
    prompts.push_back(std::move(ids));
    return prompts;
  }
  for (size_t i = 0; i < prompt->size(); ++i) {
    const Json& item = (*prompt)[i];
    const std::string param = fmt::format("prompt[{}]", i);
    if (item.is_string()) {
      prompts.push_back(EncodeText(item.get<std::string>(), context));
    } else if (item.is_array()) {
      SIEVE_ASSIGN_OR_RETURN(std::vector<int32_t> ids, TokenIds(item, param));
      prompts.push_back(std::move(ids));
    } else {
      return WrongType(param, "a string or a list of token ids", item);
    }
  }
  return prompts;
}

}  // namespace

StatusOr<StreamOptions> ReadStreamOptions(const Json& body) {
  StreamOptions out;
  SIEVE_ASSIGN_OR_RETURN(const std::optional<bool> stream, BoolField(body, "stream"));
  out.stream = stream.value_or(false);
  const Json* options = FindField(body, "stream_options");
  if (options == nullptr) return out;
  if (!out.stream)
    return Status::InvalidArgument("'stream_options' can only be given with stream=true").WithParam("stream_options");
  if (!options->is_object()) return WrongType("stream_options", "an object", *options);
  SIEVE_ASSIGN_OR_RETURN(const std::optional<bool> usage, BoolField(*options, "include_usage"));
  out.include_usage = usage.value_or(false);
  return out;
}

StatusOr<CompletionRequest> ParseCompletionRequest(const Json& body, const std::string& request_id,
                                                   const ServingContext& context) {
  SIEVE_RETURN_IF_ERROR(CheckModel(body, context));
  CompletionRequest out;
  engine::SamplingParams params;
  SIEVE_RETURN_IF_ERROR(ReadSamplingFields(body, &params));
  SIEVE_ASSIGN_OR_RETURN(out.stream, ReadStreamOptions(body));
  SIEVE_ASSIGN_OR_RETURN(const std::optional<bool> echo, BoolField(body, "echo"));
  out.echo = echo.value_or(false);
  SIEVE_ASSIGN_OR_RETURN(const std::optional<int64_t> logprobs, IntField(body, "logprobs"));
  if (logprobs) {
    if (*logprobs < 0 || *logprobs > engine::kMaxLogprobs)
      return Status::InvalidArgument(fmt::format("'logprobs' must be in [0, {}], got {}", engine::kMaxLogprobs, *logprobs))
          .WithParam("logprobs");
    out.logprobs = static_cast<int>(*logprobs);
    params.logprobs = out.logprobs;
    if (out.echo) params.prompt_logprobs = out.logprobs;
  }
  // best_of > n would need n hidden candidates ranked by logprob; Sieve does not do that.
  SIEVE_ASSIGN_OR_RETURN(const std::optional<int64_t> best_of, IntField(body, "best_of"));
  if (best_of && *best_of != params.n)
    return Status::InvalidArgument(fmt::format("best_of must equal n ({}) here; got {}", params.n, *best_of))
        .WithParam("best_of");
  if (FindField(body, "suffix") != nullptr)
    return Status::InvalidArgument("'suffix' is not supported").WithParam("suffix");
  SIEVE_ASSIGN_OR_RETURN(std::optional<int64_t> max_tokens, IntField(body, "max_tokens"));
  if (max_tokens && *max_tokens == 0) {
    if (!out.echo)
      return Status::InvalidArgument("'max_tokens' 0 is only allowed with echo=true").WithParam("max_tokens");
    out.prompt_only = true;
    max_tokens = 1;
  }

  SIEVE_ASSIGN_OR_RETURN(std::vector<std::vector<int32_t>> prompts, ReadPrompts(body, context));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const int64_t prompt_tokens = static_cast<int64_t>(prompts[i].size());
    const std::string param = prompts.size() == 1 ? "prompt" : fmt::format("prompt[{}]", i);
    if (prompt_tokens >= context.limits.max_model_len)
      return Status::InvalidArgument(fmt::format("This model's maximum context length is {} tokens. However, your "
                                                 "prompt has {} tokens, leaving no room for the completion.",
                                                 context.limits.max_model_len, prompt_tokens))
          .WithParam(param);
    engine::GenerationRequest request;
    request.request_id = fmt::format("{}-{}", request_id, i);
    request.params = params;
    SIEVE_ASSIGN_OR_RETURN(request.params.max_tokens,
                           ResolveMaxTokens(max_tokens, "max_tokens", prompt_tokens, kDefaultCompletionMaxTokens, context));
    request.prompt_ids = std::move(prompts[i]);
    if (Status s = engine::ValidateRequest(request, context.limits); !s.ok()) {
      if (s.param() == "prompt") return Status(s.code(), s.message()).WithParam(param);
      return s;
    }
    out.prompt_texts.push_back(out.echo ? context.tokenizer->Decode(request.prompt_ids, params.skip_special_tokens) : "");
    out.prompts.push_back(std::move(request));
  }
  return out;
}

}  // namespace sieve::server
