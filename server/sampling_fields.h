// The request fields shared by /v1/completions and /v1/chat/completions: the model name and the sampling
// parameters (OpenAI's plus vLLM's extra_body ones such as top_k, ignore_eos, stop_token_ids), read into
// engine::SamplingParams. Range checks are left to engine::ValidateRequest, which names the field too.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/engine.h"
#include "server/json_fields.h"
#include "server/serving_context.h"

namespace sieve::server {

// NotFound (404) when `model` is given and is neither the served model name nor the model folder.
Status CheckModel(const Json& body, const ServingContext& context);

// Reads n, temperature, top_p, top_k, min_p, penalties, logit_bias, seed, stop, stop_token_ids,
// include_stop_str_in_output, ignore_eos, min_tokens, skip_special_tokens into *params.
Status ReadSamplingFields(const Json& body, engine::SamplingParams* params);

// The output budget: `requested` (already read from `param`) or, when absent, what is left of the context
// (vLLM's default for chat) capped by `default_max_tokens` when that is set. InvalidArgument when the
// prompt plus the request do not fit in max_model_len.
StatusOr<int> ResolveMaxTokens(std::optional<int64_t> requested, const char* param, int64_t prompt_tokens,
                               std::optional<int64_t> default_max_tokens, const ServingContext& context);

}  // namespace sieve::server
