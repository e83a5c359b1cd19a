// Speculative sampling's acceptance rule (Leviathan et al. 2023, "Fast Inference from Transformers via
// Speculative Decoding", Algorithm 1 and Appendix A.1; Chen et al. 2023; vLLM's
// vllm/v1/sample/rejection_sampler.py): a draft token x drawn from the draft distribution q is kept with
// probability min(1, p(x) / q(x)); otherwise the token is drawn from norm(max(0, p - q)). Either way
// the emitted token is distributed exactly as the target p, whatever q is.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace sieve::engine {

struct RejectionResult {
  int32_t token_id = 0;
  bool accepted = false;  // token_id is the draft
};

// `p` and `q` [vocab]: target and draft probabilities (each sums to 1); `draft` was drawn from q. Draws
// from `rng` (one uniform to accept, one more to resample).
RejectionResult RejectionSample(std::span<const double> p, std::span<const double> q, int32_t draft,
                                std::mt19937_64& rng);

// Uniform in [0, 1) from 53 random bits: the same value on every platform for the same generator state.
double UniformDouble(std::mt19937_64& rng);

}  // namespace sieve::engine
