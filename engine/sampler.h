// Sampler: turns one row of logits into the next token of one sequence, with the request's sampling
// parameters, in vLLM's order (vllm/v1/sample/sampler.py): min_tokens mask, logit_bias, penalties
// (repetition, frequency, presence), then greedy argmax or temperature, min_p, top_k/top_p and a draw
// from the sequence's own generator, so a seeded request reproduces whatever else is in the batch.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "engine/engine.h"

namespace sieve::engine {

// Which distribution logprobs describe (vLLM's --logprobs-mode): the model's own (raw, vLLM's default)
// or the one actually sampled from (processed: after bias, penalties, temperature, min_p, top_k, top_p).
enum class LogprobsMode { kRaw, kProcessed };

// What the sampler needs to know about one sequence.
struct SamplingContext {
  const SamplingParams& params;
  std::span<const int32_t> prompt_ids;
  std::span<const int32_t> output_ids;  // generated so far
  std::mt19937_64& rng;                 // the sequence's own generator
  // Structured output: bit t set if token t may be sampled ([ceil(vocab_size / 64)] words); empty: all.
  std::span<const uint64_t> allowed = {};
};

struct SampleResult {
  int32_t token_id = 0;
  std::optional<TokenLogprob> logprob;  // when params.logprobs is set
  bool no_allowed_token = false;        // `allowed` left nothing to sample: token_id is meaningless
};

class Sampler {
 public:
  Sampler(int64_t vocab_size, int32_t eos_token_id, LogprobsMode mode);

  // `logits` [vocab_size]: the model's row for the sequence's next token.
  SampleResult Sample(std::span<const float> logits, const SamplingContext& ctx);
  // Speculative decoding: the token at a drafted position, which is `draft` when the draft is accepted
  // (engine/rejection_sampler.h); distributed exactly as Sample's for the same row and context.
  SampleResult Verify(std::span<const float> logits, const SamplingContext& ctx, int32_t draft);
  // Log-probability of `token_id` under raw `logits` [vocab_size], with the `num_top` most likely.
  TokenLogprob Logprob(std::span<const float> logits, int32_t token_id, int num_top);

 private:
  enum class Processed { kGreedy, kSampled, kNothingAllowed };
  // Runs the logits processors into work_: greedy (no temperature applied), ready to draw from, or
  // nothing left once the structured-output mask applied.
  Processed Process(std::span<const float> logits, const SamplingContext& ctx);
  // Structured output: disallowed tokens get -inf, before every other processor (vLLM applies the
  // grammar bitmask to the logits before its sampler).
  void ApplyAllowed(std::span<const uint64_t> allowed);
  void AddLogprob(std::span<const float> logits, const SamplingParams& p, SampleResult& r);
  void ApplyMinTokens(const SamplingContext& ctx);
  void ApplyPenalties(const SamplingContext& ctx);
  void ApplyTopKTopPMinP(const SamplingParams& p);
  int32_t Draw(std::mt19937_64& rng);
  // Log-softmax of `logits` into logprobs_, then the entry for `token_id` and the top `num_top`.
  TokenLogprob LogprobOf(std::span<const float> logits, int32_t token_id, int num_top);

  int64_t vocab_size_;
  int32_t eos_token_id_;
  LogprobsMode mode_;
  // Scratch rows [vocab_size], reused every call so that sampling does not allocate per token.
  std::vector<float> work_, logprobs_, probs_;
  std::vector<int32_t> order_, counts_;
  std::vector<double> target_, draft_;  // speculative verification: p and the one-hot q [vocab_size]
  std::vector<double> block_sums_;      // Draw: the sum of each block's exponentials
};

// Seeds a sequence's generator: a request's seed and choice index, so n > 1 choices differ and each
// reproduces.
std::mt19937_64 SequenceGenerator(uint64_t seed, int choice_index);

}  // namespace sieve::engine
