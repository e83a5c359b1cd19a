// POST /v1/completions request -> engine requests, one per prompt. `prompt` may be a string, a list of
// strings, a list of token ids or a list of token-id lists (lm-eval sends all four shapes). Everything is
// validated here, before anything is submitted, so a batch is accepted or rejected as a whole.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/json_fields.h"
#include "server/serving_context.h"

namespace sieve::server {

struct StreamOptions {
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: one usage-only chunk before [DONE]
};

// `stream` and `stream_options` (the latter only allowed with stream=true, as vLLM requires).
StatusOr<StreamOptions> ReadStreamOptions(const Json& body);

struct CompletionRequest {
  std::vector<engine::GenerationRequest> prompts;  // request ids "<id>-<prompt index>"
  std::vector<std::string> prompt_texts;           // for echo: each prompt's text (ids decoded)
  bool echo = false;
  // max_tokens 0 with echo: the answer is the prompt alone with its logprobs (lm-eval loglikelihood
  // style). The engine still samples one token, which is dropped.
  bool prompt_only = false;
  std::optional<int> logprobs;
  StreamOptions stream;
};

StatusOr<CompletionRequest> ParseCompletionRequest(const Json& body, const std::string& request_id,
                                                   const ServingContext& context);

}  // namespace sieve::server
