// Request validation: everything a GenerationRequest says is checked here, in Engine::Submit, before it
// reaches the scheduler; afterwards nothing a request says can fail the step loop. Ranges follow vLLM's
// SamplingParams._verify_args (vllm/sampling_params.py) and OpenAI's API reference.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "engine/engine.h"

namespace sieve::engine {

struct RequestLimits {
  int64_t vocab_size = 0;
  int64_t max_model_len = 0;
  int64_t max_num_seqs = 0;
  bool has_tokenizer = false;
};

// Largest logprobs / prompt_logprobs count (vLLM's default max_logprobs; OpenAI allows 20).
inline constexpr int kMaxLogprobs = 20;

// InvalidArgument naming the offending field (Status::param) when the request cannot be served.
Status ValidateRequest(const GenerationRequest& request, const RequestLimits& limits);

}  // namespace sieve::engine
