// vLLM's `random` dataset for `sieve bench serve` (RandomDataset.sample, bench-serve.md §2): per request a
// run of consecutive vocabulary ids after a shared random prefix, decoded to text and re-encoded until it
// has the target token count. Lengths follow vLLM's distribution (uniform integers in
// [floor(L(1-r)), ceil(L(1+r))]) but are drawn with std::mt19937_64, not numpy's PCG64, so the sequence
// for a seed differs from vLLM's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clients/prompt_tokenizer.h"
#include "core/status.h"

namespace sieve::clients {

struct RandomDatasetOptions {
  size_t num_prompts = 1000;
  int input_len = 1024;
  int output_len = 128;
  double range_ratio = 0.0;  // in [0, 1)
  int prefix_len = 0;
  uint64_t seed = 0;
};

struct BenchRequest {
  std::string prompt;       // decoded text, sent as is
  int prompt_len = 0;       // tokens of `prompt` re-encoded without special tokens
  int expected_output_len = 0;  // sent as max_tokens
};

struct RandomDataset {
  std::vector<BenchRequest> requests;
  size_t length_mismatches = 0;  // prompts whose re-encoding missed the target after 10 tries (vLLM warns)
};

StatusOr<RandomDataset> SampleRandomDataset(const PromptTokenizer& tokenizer, const RandomDatasetOptions& options);

}  // namespace sieve::clients
