// The sampling fields completions and chat requests share (OpenAI's plus vLLM's extra_body names: top_k,
// min_p, repetition_penalty, ignore_eos, min_tokens, stop_token_ids, ...) read into engine::SamplingParams.
// Types are checked here; ranges are checked once, by the engine's request validation in Submit.
#pragma once

#include "engine/engine.h"
#include "server/json_fields.h"

namespace sieve::server {

// Fills every shared field the body gives; fields it omits keep `params`' defaults. Does not read
// max_tokens, logprobs or n (their meaning differs between the two endpoints).
Status ReadSamplingFields(const Json& body, engine::SamplingParams* params);

// `n` (1 by default); `best_of`, which vLLM's V1 engine also rejects unless equal to n.
Status ReadChoiceCount(const Json& body, engine::SamplingParams* params);

// The generated-token budget: `requested` if given, else everything the context has left. Fails when the
// prompt leaves no room or prompt + requested exceeds the context, with vLLM's wording.
// `prompt_param` names the prompt field for the error ("prompt" or "messages").
StatusOr<int> ResolveMaxTokens(std::optional<int64_t> requested, const std::string& param, int64_t prompt_tokens,
                               int64_t max_model_len, const std::string& prompt_param);

}  // namespace sieve::server
