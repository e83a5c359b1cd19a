#include "server/completion_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "server/sampling_fields.h"
#include "text/tokenizer.h"

namespace sieve::server {

namespace {

bool IsTokenIdList(const Json& v) {
  return v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const Json& x) { return x.is_number_integer(); });
}

StatusOr<CompletionPrompt> IdsPrompt(const Json& ids, const std::string& path, const ServingLimits& limits) {
  CompletionPrompt p;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = ids[i].get<int64_t>();
    if (id < 0 || id >= limits.vocab_size)
      return Status::InvalidArgument(fmt::format("token id {} is outside the vocabulary [0, {})", id, limits.vocab_size))
          .WithParam(fmt::format("{}[{}]", path, i));
    p.ids.push_back(static_cast<int32_t>(id));
  }
  if (limits.tokenizer) p.text = limits.tokenizer->Decode(p.ids, /*skip_special_tokens=*/false);
  return p;
}

StatusOr<CompletionPrompt> TextPrompt(const std::string& text, const std::string& path, const ServingLimits& limits) {
  if (limits.tokenizer == nullptr)
    return Status::InvalidArgument("this checkpoint has no tokenizer; send the prompt as token ids").WithParam(path);
  CompletionPrompt p;
  p.text = text;
  p.ids.push_back(limits.bos_token_id);
  for (int32_t id : limits.tokenizer->Encode(text)) p.ids.push_back(id);
  return p;
}

StatusOr<std::vector<CompletionPrompt>> ReadPrompts(const Json& body, const ServingLimits& limits) {
  const Json* prompt = FindField(body, "prompt");
  const Status bad = Status::InvalidArgument(
                         "'prompt' must be a string, a list of strings, a list of token ids or a list of token-id lists")
                         .WithParam("prompt");
  if (prompt == nullptr) return Status::InvalidArgument("'prompt' is required").WithParam("prompt");
  std::vector<CompletionPrompt> out;
  if (prompt->is_string()) {
    SIEVE_ASSIGN_OR_RETURN(CompletionPrompt p, TextPrompt(prompt->get<std::string>(), "prompt", limits));
    out.push_back(std::move(p));
  } else if (IsTokenIdList(*prompt)) {
    SIEVE_ASSIGN_OR_RETURN(CompletionPrompt p, IdsPrompt(*prompt, "prompt", limits));
    out.push_back(std::move(p));
  } else if (prompt->is_array() && !prompt->empty()) {
    for (size_t i = 0; i < prompt->size(); ++i) {
      const Json& item = (*prompt)[i];
      const std::string path = fmt::format("prompt[{}]", i);
      if (item.is_string()) {
        SIEVE_ASSIGN_OR_RETURN(CompletionPrompt p, TextPrompt(item.get<std::string>(), path, limits));
        out.push_back(std::move(p));
      } else if (IsTokenIdList(item)) {
        SIEVE_ASSIGN_OR_RETURN(CompletionPrompt p, IdsPrompt(item, path, limits));
        out.push_back(std::move(p));
      } else {
        return Status(bad).WithParam(path);
      }
    }
  } else {
    return bad;
  }
  return out;
}

}  // namespace

Status CheckModelName(const Json& body, const ServingLimits& limits) {
  SIEVE_ASSIGN_OR_RETURN(const auto model, OptionalString(body, "model"));
  if (!model || std::find(limits.served_model_names.begin(), limits.served_model_names.end(), *model) !=
                    limits.served_model_names.end())
    return Status::Ok();
  return Status::NotFound(fmt::format("The model `{}` does not exist.", *model)).WithParam("model");
}

Status ReadStreamFields(const Json& body, bool* stream, bool* include_usage) {
  SIEVE_ASSIGN_OR_RETURN(const auto s, OptionalBool(body, "stream"));
  *stream = s.value_or(false);
  const Json* options = FindField(body, "stream_options");
  if (options == nullptr) return Status::Ok();
  if (!*stream)
    return Status::InvalidArgument("stream_options can only be given when stream is true").WithParam("stream_options");
  if (!options->is_object()) return Status::InvalidArgument("'stream_options' must be an object").WithParam("stream_options");
  SIEVE_ASSIGN_OR_RETURN(const auto usage, OptionalBool(*options, "include_usage", "stream_options.include_usage"));
  *include_usage = usage.value_or(false);
  return Status::Ok();
}

StatusOr<CompletionRequest> ParseCompletionRequest(const Json& body, const ServingLimits& limits) {
  SIEVE_RETURN_IF_ERROR(CheckModelName(body, limits));
  CompletionRequest r;
  SIEVE_ASSIGN_OR_RETURN(r.prompts, ReadPrompts(body, limits));
  SIEVE_RETURN_IF_ERROR(ReadSamplingFields(body, &r.params));
  SIEVE_RETURN_IF_ERROR(ReadChoiceCount(body, &r.params));
  SIEVE_RETURN_IF_ERROR(ReadStreamFields(body, &r.stream, &r.include_usage));
  SIEVE_ASSIGN_OR_RETURN(const auto echo, OptionalBool(body, "echo"));
  r.echo = echo.value_or(false);
  if (FindField(body, "suffix") != nullptr)
    return Status::InvalidArgument("suffix is not supported").WithParam("suffix");
  // Completions' logprobs is a count of top alternatives (OpenAI allows up to 5; vLLM up to 20).
  SIEVE_ASSIGN_OR_RETURN(const auto logprobs, OptionalInt(body, "logprobs"));
  if (logprobs) {
    if (*logprobs < 0 || *logprobs > 20)
      return Status::InvalidArgument(fmt::format("logprobs must be in [0, 20], got {}", *logprobs)).WithParam("logprobs");
    r.params.logprobs = static_cast<int>(*logprobs);
    if (r.echo) r.params.prompt_logprobs = static_cast<int>(*logprobs);
  }
  int64_t longest = 0;
  for (const CompletionPrompt& p : r.prompts) longest = std::max<int64_t>(longest, static_cast<int64_t>(p.ids.size()));
  // OpenAI's default for completions is 16 tokens.
  SIEVE_ASSIGN_OR_RETURN(const auto max_tokens, OptionalInt(body, "max_tokens"));
  SIEVE_ASSIGN_OR_RETURN(r.params.max_tokens,
                         ResolveMaxTokens(max_tokens.value_or(16), "max_tokens", longest, limits.max_model_len, "prompt"));
  return r;
}

}  // namespace sieve::server
