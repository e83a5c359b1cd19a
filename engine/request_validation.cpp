// Request validation: ranges of every sampling parameter and the prompt against the model and cache.
#include "engine/request_validation.h"

#include <fmt/format.h>

#include <cmath>

namespace sieve::engine {

namespace {
Status Invalid(std::string param, std::string message) {
  return Status::InvalidArgument(std::move(message)).WithParam(std::move(param));
}
bool IsToken(int64_t id, const RequestLimits& limits) { return id >= 0 && id < limits.vocab_size; }
}  // namespace

Status ValidateRequest(const GenerationRequest& request, const RequestLimits& limits) {
  const SamplingParams& p = request.params;
  const int64_t prompt_len = static_cast<int64_t>(request.prompt_ids.size());
  if (request.request_id.empty()) return Invalid("request_id", "request id is empty");
  if (prompt_len == 0) return Invalid("prompt", "prompt is empty");
  if (prompt_len >= limits.max_model_len)
    return Invalid("prompt", fmt::format("prompt has {} tokens; this model's maximum context length is {} tokens, "
                                         "including at least one generated token",
                                         prompt_len, limits.max_model_len));
  for (size_t i = 0; i < request.prompt_ids.size(); ++i)
    if (!IsToken(request.prompt_ids[i], limits))
      return Invalid("prompt", fmt::format("prompt token {} at position {} is outside the vocabulary [0, {})",
                                           request.prompt_ids[i], i, limits.vocab_size));
  if (p.n < 1 || p.n > limits.max_num_seqs)
    return Invalid("n", fmt::format("n must be in [1, {}] (--max-num-seqs), got {}", limits.max_num_seqs, p.n));
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature))
    return Invalid("temperature", fmt::format("temperature must be >= 0, got {}", p.temperature));
  if (!(p.top_p > 0 && p.top_p <= 1)) return Invalid("top_p", fmt::format("top_p must be in (0, 1], got {}", p.top_p));
  if (p.top_k < -1) return Invalid("top_k", fmt::format("top_k must be -1 (off), 0 (off) or positive, got {}", p.top_k));
  if (!(p.min_p >= 0 && p.min_p <= 1)) return Invalid("min_p", fmt::format("min_p must be in [0, 1], got {}", p.min_p));
  if (!(p.presence_penalty >= -2 && p.presence_penalty <= 2))
    return Invalid("presence_penalty", fmt::format("presence_penalty must be in [-2, 2], got {}", p.presence_penalty));
  if (!(p.frequency_penalty >= -2 && p.frequency_penalty <= 2))
    return Invalid("frequency_penalty",
                   fmt::format("frequency_penalty must be in [-2, 2], got {}", p.frequency_penalty));
  if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty))
    return Invalid("repetition_penalty", fmt::format("repetition_penalty must be > 0, got {}", p.repetition_penalty));
  for (const auto& [token, bias] : p.logit_bias) {
    if (!IsToken(token, limits))
      return Invalid("logit_bias", fmt::format("logit_bias token {} is outside the vocabulary [0, {})", token,
                                               limits.vocab_size));
    if (!(bias >= -100 && bias <= 100))
      return Invalid("logit_bias", fmt::format("logit_bias of token {} must be in [-100, 100], got {}", token, bias));
  }
  if (p.max_tokens < 1) return Invalid("max_tokens", fmt::format("max_tokens must be >= 1, got {}", p.max_tokens));
  if (p.min_tokens < 0 || p.min_tokens > p.max_tokens)
    return Invalid("min_tokens",
                   fmt::format("min_tokens must be in [0, max_tokens = {}], got {}", p.max_tokens, p.min_tokens));
  for (int32_t t : p.stop_token_ids)
    if (!IsToken(t, limits))
      return Invalid("stop_token_ids",
                     fmt::format("stop token {} is outside the vocabulary [0, {})", t, limits.vocab_size));
  if (p.json_grammar && !limits.has_tokenizer)
    return Invalid("response_format", "structured outputs need a tokenizer; this checkpoint has none");
  if (p.grammar_after_token_id && !IsToken(*p.grammar_after_token_id, limits))
    return Invalid("response_format", fmt::format("grammar start token {} is outside the vocabulary", *p.grammar_after_token_id));
  if (!p.stop.empty() && !limits.has_tokenizer)
    return Invalid("stop", "stop strings need a tokenizer; this checkpoint has none (use stop_token_ids)");
  for (const std::string& s : p.stop)
    if (s.empty()) return Invalid("stop", "stop strings must not be empty");
  if (p.logprobs && (*p.logprobs < 0 || *p.logprobs > kMaxLogprobs))
    return Invalid("logprobs", fmt::format("logprobs must be in [0, {}], got {}", kMaxLogprobs, *p.logprobs));
  if (p.prompt_logprobs && (*p.prompt_logprobs < 0 || *p.prompt_logprobs > kMaxLogprobs))
    return Invalid("prompt_logprobs",
                   fmt::format("prompt_logprobs must be in [0, {}], got {}", kMaxLogprobs, *p.prompt_logprobs));
  return Status::Ok();
}

}  // namespace sieve::engine
