// vLLM-style random prompts; see random_dataset.h.
#include "clients/random_dataset.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

namespace sieve::clients {
namespace {

// rng.integers(low, high_inclusive + 1)
int64_t UniformInt(std::mt19937_64& rng, int64_t low, int64_t high_inclusive) {
  return std::uniform_int_distribution<int64_t>(low, high_inclusive)(rng);
}

// gen_prompt_decode_to_target_len (max_retry 10): decode, re-encode without special tokens, then pad with
// random ids or truncate toward the target, until the re-encoding has exactly `target` tokens.
std::vector<int32_t> DecodeToTargetLen(const PromptTokenizer& tok, std::vector<int32_t> ids, size_t target,
                                       std::mt19937_64& rng, std::string* prompt, bool* matched) {
  *matched = false;
  for (int retry = 0; retry <= 10; ++retry) {
    *prompt = tok.Decode(ids);
    ids = tok.Encode(*prompt);
    if (ids.size() == target) {
      *matched = true;
      return ids;
    }
    if (retry == 10) break;
    if (ids.size() < target) {
      while (ids.size() < target) ids.push_back(static_cast<int32_t>(UniformInt(rng, 0, tok.vocab_size() - 1)));
    } else {
      ids.resize(target);
    }
  }
  return ids;
}

}  // namespace

StatusOr<RandomDataset> SampleRandomDataset(const PromptTokenizer& tok, const RandomDatasetOptions& o) {
  if (o.range_ratio < 0 || o.range_ratio >= 1) {
    return Status::InvalidArgument(fmt::format("--random-range-ratio {} must be in [0, 1)", o.range_ratio));
  }
  if (o.input_len < 0 || o.output_len < 1 || o.prefix_len < 0) {
    return Status::InvalidArgument("--random-input-len and --random-prefix-len must be >= 0, --random-output-len >= 1");
  }
  std::mt19937_64 rng(o.seed);
  // get_sampling_params: the tokenizer's own special tokens (BOS) are not part of the random text.
  const int64_t real_input_len = std::max(0, o.input_len - tok.num_special_tokens_to_add());
  const double r = o.range_ratio;
  const auto input_low = static_cast<int64_t>(std::floor(real_input_len * (1 - r)));
  const auto input_high = static_cast<int64_t>(std::ceil(real_input_len * (1 + r)));
  const auto output_low = std::max<int64_t>(static_cast<int64_t>(std::floor(o.output_len * (1 - r))), 1);
  const auto output_high = std::max<int64_t>(static_cast<int64_t>(std::ceil(o.output_len * (1 + r))), 1);
  std::vector<int64_t> input_lens(o.num_prompts), output_lens(o.num_prompts), offsets(o.num_prompts);
  for (auto& v : input_lens) v = UniformInt(rng, input_low, input_high);
  for (auto& v : output_lens) v = UniformInt(rng, output_low, output_high);
  for (auto& v : offsets) v = UniformInt(rng, 0, tok.vocab_size() - 1);

  std::vector<int32_t> allowed;  // sorted(set(range(vocab_size)) - set(all_special_ids))
  for (int64_t id = 0; id < tok.vocab_size(); ++id)
    if (!tok.IsSpecial(static_cast<int32_t>(id))) allowed.push_back(static_cast<int32_t>(id));
  if (allowed.empty()) return Status::FailedPrecondition("the tokenizer has no non-special ids to draw from");
  const auto n_allowed = static_cast<int64_t>(allowed.size());

  RandomDataset dataset;
  std::string text;
  bool matched = false;
  std::vector<int32_t> prefix;
  for (int i = 0; i < o.prefix_len; ++i) prefix.push_back(allowed[UniformInt(rng, 0, n_allowed - 1)]);
  if (!prefix.empty()) {
    prefix = DecodeToTargetLen(tok, prefix, prefix.size(), rng, &text, &matched);
    dataset.length_mismatches += !matched;
  }
  for (size_t i = 0; i < o.num_prompts; ++i) {
    std::vector<int32_t> ids = prefix;
    for (int64_t j = 0; j < input_lens[i]; ++j) {
      ids.push_back(allowed[(offsets[i] + static_cast<int64_t>(i) + j) % n_allowed]);
    }
    const size_t target = prefix.size() + static_cast<size_t>(input_lens[i]);
    ids = DecodeToTargetLen(tok, std::move(ids), target, rng, &text, &matched);
    dataset.length_mismatches += !matched;
    dataset.requests.push_back({text, static_cast<int>(ids.size()), static_cast<int>(output_lens[i])});
  }
  return dataset;
}

}  // namespace sieve::clients
