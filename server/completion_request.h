// POST /v1/completions request -> validated prompts and sampling parameters. Prompts may be a string, a
// list of strings, a list of token ids or a list of token-id lists (lm-eval's tokenized requests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/json_fields.h"
#include "server/serving_limits.h"

namespace sieve::server {

struct CompletionPrompt {
  std::vector<int32_t> ids;  // text prompts get BOS first, as vLLM's add_special_tokens=True
  std::string text;          // the text as sent, or the ids decoded (what echo returns)
};

struct CompletionRequest {
  std::vector<CompletionPrompt> prompts;
  engine::SamplingParams params;  // max_tokens resolved against the longest prompt
  bool echo = false;
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
};

StatusOr<CompletionRequest> ParseCompletionRequest(const Json& body, const ServingLimits& limits);

// `model`, when given, must be one of the served names (404 otherwise, as vLLM).
Status CheckModelName(const Json& body, const ServingLimits& limits);
// `stream` and `stream_options` (allowed only with stream = true, as vLLM).
Status ReadStreamFields(const Json& body, bool* stream, bool* include_usage);

}  // namespace sieve::server
