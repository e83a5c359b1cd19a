// Sampler: logits processors and the draw, per sequence, on one row of logits.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/rejection_sampler.h"
#include "kernels/exp_sum.h"

namespace sieve::engine {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Below this temperature a request is greedy (vLLM's _SAMPLING_EPS).
constexpr double kGreedyTemperature = 1e-5;
// Tokens per block of Draw's exponentials and sums (16 KiB of floats).
constexpr int64_t kDrawBlock = 4096;

int32_t ArgMax(const std::vector<float>& x) {
  return static_cast<int32_t>(std::max_element(x.begin(), x.end()) - x.begin());  // lowest id on ties
}
}  // namespace

std::mt19937_64 SequenceGenerator(uint64_t seed, int choice_index) {
  return std::mt19937_64(seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(choice_index));
}

Sampler::Sampler(int64_t vocab_size, int32_t eos_token_id, LogprobsMode mode)
    : vocab_size_(vocab_size),
      eos_token_id_(eos_token_id),
      mode_(mode),
      work_(vocab_size),
      logprobs_(vocab_size),
      probs_(vocab_size),
      order_(vocab_size),
      counts_(vocab_size, 0),
      target_(vocab_size),
      draft_(vocab_size, 0.0) {}

Sampler::Processed Sampler::Process(std::span<const float> logits, const SamplingContext& ctx) {
  const SamplingParams& p = ctx.params;
  work_.assign(logits.begin(), logits.end());
  ApplyAllowed(ctx.allowed);
  ApplyMinTokens(ctx);
  for (const auto& [token, bias] : p.logit_bias) work_[token] += bias;
  ApplyPenalties(ctx);
  if (!ctx.allowed.empty() && std::none_of(work_.begin(), work_.end(), [](float x) { return x > kNegInf; }))
    return Processed::kNothingAllowed;
  if (p.temperature < kGreedyTemperature) return Processed::kGreedy;
  const float inv_t = static_cast<float>(1.0 / p.temperature);
  for (float& x : work_) x *= inv_t;
  ApplyTopKTopPMinP(p);
  return Processed::kSampled;
}

void Sampler::AddLogprob(std::span<const float> logits, const SamplingParams& p, SampleResult& r) {
  if (!p.logprobs) return;
  const std::span<const float> dist = mode_ == LogprobsMode::kRaw ? logits : std::span<const float>(work_);
  r.logprob = LogprobOf(dist, r.token_id, *p.logprobs);
}

SampleResult Sampler::Sample(std::span<const float> logits, const SamplingContext& ctx) {
  SampleResult r;
  switch (Process(logits, ctx)) {
    case Processed::kNothingAllowed: r.no_allowed_token = true; return r;
    case Processed::kGreedy: r.token_id = ArgMax(work_); break;
    case Processed::kSampled: r.token_id = Draw(ctx.rng); break;
  }
  AddLogprob(logits, ctx.params, r);
  return r;
}

// Greedy: the argmax, which accepts the draft when they agree (so the output is the non-speculative
// one). Sampling: the draft came from the MTP layer's argmax, a one-hot draft distribution q, so the
// rejection rule keeps it with probability p(draft) and otherwise draws from p without the draft.
// Constrained sequences get no drafts (Scheduler::NumDraftTokens), so no mask applies here.
SampleResult Sampler::Verify(std::span<const float> logits, const SamplingContext& ctx, int32_t draft) {
  SampleResult r;
  if (Process(logits, ctx) == Processed::kGreedy) {
    r.token_id = ArgMax(work_);
  } else {
    const float max_logit = *std::max_element(work_.begin(), work_.end());
    double total = 0;
    for (int64_t i = 0; i < vocab_size_; ++i) total += target_[i] = std::exp(static_cast<double>(work_[i] - max_logit));
    for (double& x : target_) x /= total;
    draft_[draft] = 1.0;
    r.token_id = RejectionSample(target_, draft_, draft, ctx.rng).token_id;
    draft_[draft] = 0.0;
  }
  AddLogprob(logits, ctx.params, r);
  return r;
}

TokenLogprob Sampler::Logprob(std::span<const float> logits, int32_t token_id, int num_top) {
  return LogprobOf(logits, token_id, num_top);
}

void Sampler::ApplyAllowed(std::span<const uint64_t> allowed) {
  if (allowed.empty()) return;
  for (int64_t t = 0; t < vocab_size_; ++t)
    if (((allowed[static_cast<size_t>(t) / 64] >> (t % 64)) & 1) == 0) work_[t] = kNegInf;
}

// Until min_tokens are generated, EOS (unless ignore_eos) and the stop token ids cannot be sampled
// (vLLM MinTokensLogitsProcessor).
void Sampler::ApplyMinTokens(const SamplingContext& ctx) {
  const SamplingParams& p = ctx.params;
  if (static_cast<int64_t>(ctx.output_ids.size()) >= p.min_tokens) return;
  if (!p.ignore_eos) work_[eos_token_id_] = kNegInf;
  for (int32_t t : p.stop_token_ids) work_[t] = kNegInf;
}

// vLLM's apply_penalties (vllm/model_executor/layers/utils.py): repetition over prompt and output tokens
// (divide positive logits, multiply negative ones, CTRL paper, Keskar et al. 2019 eq. 3), then
// frequency (times the count) and presence (once) over output tokens only (OpenAI's definition).
void Sampler::ApplyPenalties(const SamplingContext& ctx) {
  const SamplingParams& p = ctx.params;
  if (p.repetition_penalty != 1.0) {
    const float rp = static_cast<float>(p.repetition_penalty);
    auto penalise = [&](int32_t t) {
      if (counts_[t] != 0) return;  // counts_ doubles as a "seen" mark here
      counts_[t] = 1;
      work_[t] = work_[t] > 0 ? work_[t] / rp : work_[t] * rp;
    };
    for (int32_t t : ctx.prompt_ids) penalise(t);
    for (int32_t t : ctx.output_ids) penalise(t);
    for (int32_t t : ctx.prompt_ids) counts_[t] = 0;
    for (int32_t t : ctx.output_ids) counts_[t] = 0;
  }
  if (p.frequency_penalty == 0.0 && p.presence_penalty == 0.0) return;
  for (int32_t t : ctx.output_ids) ++counts_[t];
  for (int32_t t : ctx.output_ids) {
    if (counts_[t] == 0) continue;  // already applied for this token
    work_[t] -= static_cast<float>(p.frequency_penalty * counts_[t] + p.presence_penalty);
    counts_[t] = 0;
  }
}

// min_p (Nguyen et al. 2024, "Min P Sampling"): drop tokens with p < min_p * p_max; then top_k and
// top_p (nucleus, Holtzman et al. 2019) as vLLM's apply_top_k_top_p: top_p keeps the most likely tokens
// whose preceding cumulative probability is below top_p, after top_k. Removed tokens get -inf.
void Sampler::ApplyTopKTopPMinP(const SamplingParams& p) {
  const float max_logit = *std::max_element(work_.begin(), work_.end());
  if (p.min_p > 0.0) {
    // p_i < min_p * p_max  <=>  logit_i < max_logit + log(min_p)
    const float cut = max_logit + static_cast<float>(std::log(p.min_p));
    for (float& x : work_) x = x < cut ? kNegInf : x;
  }
  const bool use_top_k = p.top_k > 0 && p.top_k < vocab_size_;
  const bool use_top_p = p.top_p < 1.0;
  if (!use_top_k && !use_top_p) return;

  std::iota(order_.begin(), order_.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
  auto weight = [&](int32_t t) { return std::exp(static_cast<double>(work_[t] - max_logit)); };
  int64_t keep = vocab_size_;
  if (use_top_k) {
    keep = p.top_k;
    std::nth_element(order_.begin(), order_.begin() + keep - 1, order_.end(), by_logit);
  }
  if (use_top_p) {
    // Mass of the top_k set: top_p applies to the distribution renormalised after top_k, as vLLM's.
    double mass = 0;
    for (int64_t i = 0; i < keep; ++i) mass += weight(order_[i]);
    // The nucleus is a prefix of the tokens sorted by logit; find it by sorting a growing head
    // (nth_element then sort) rather than the whole vocabulary every token.
    int64_t head = std::min<int64_t>(keep, 64);
    for (;;) {
      std::nth_element(order_.begin(), order_.begin() + head - 1, order_.begin() + keep, by_logit);
      std::sort(order_.begin(), order_.begin() + head, by_logit);
      double cumulative = 0;
      int64_t n = 0;
      while (n < head && cumulative < p.top_p * mass) cumulative += weight(order_[n++]);
      if (n < head || head == keep) {
        keep = std::max<int64_t>(n, 1);
        break;
      }
      head = std::min<int64_t>(head * 2, keep);
    }
  }
  // order_[0 .. keep) are the kept tokens.
  std::fill(probs_.begin(), probs_.end(), kNegInf);
  for (int64_t i = 0; i < keep; ++i) probs_[order_[i]] = work_[order_[i]];
  work_.swap(probs_);
}

// Inverse-CDF draw over token ids in increasing order, with one uniform from the sequence's generator.
// The exponentials run in SIMD a block of kDrawBlock tokens at a time (kernels/exp_sum.h; a scalar
// std::exp over the 129K-token vocabulary was ~0.5 ms per sampled token, 16 of them ~7% of a batch-16
// decode step); the blocks' sums, added in double, locate the block holding the draw, which alone is
// scanned token by token.
int32_t Sampler::Draw(std::mt19937_64& rng) {
  const float max_logit = kernels::MaxOf(work_.data(), vocab_size_);
  std::copy(work_.begin(), work_.end(), probs_.begin());
  const int64_t blocks = (vocab_size_ + kDrawBlock - 1) / kDrawBlock;
  block_sums_.resize(blocks);
  double total = 0;
  int64_t last_block = 0;  // the last block with a possible token
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * kDrawBlock, end = std::min(vocab_size_, begin + kDrawBlock);
    block_sums_[b] = kernels::ExpShiftedSum(probs_.data() + begin, end - begin, max_logit, 1.0f);
    total += block_sums_[b];
    if (block_sums_[b] > 0) last_block = b;
  }
  const double target = UniformDouble(rng) * total;
  double cumulative = 0;
  for (int64_t b = 0; b <= last_block; ++b) {
    if (cumulative + block_sums_[b] <= target && b < last_block) {
      cumulative += block_sums_[b];
      continue;
    }
    const int64_t begin = b * kDrawBlock, end = std::min(vocab_size_, begin + kDrawBlock);
    int32_t last_possible = -1;
    for (int64_t i = begin; i < end; ++i) {
      if (probs_[i] == 0) continue;
      last_possible = static_cast<int32_t>(i);
      cumulative += probs_[i];
      if (cumulative > target) return last_possible;
    }
    if (last_possible >= 0) return last_possible;  // rounding: the token sum fell short of the block's sum
  }
  return 0;  // every logit -inf (e.g. a -inf logit_bias on every token): nothing to draw from
}

TokenLogprob Sampler::LogprobOf(std::span<const float> logits, int32_t token_id, int num_top) {
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (float x : logits) total += std::exp(static_cast<double>(x - max_logit));
  const float log_z = max_logit + static_cast<float>(std::log(total));
  for (int64_t i = 0; i < vocab_size_; ++i) logprobs_[i] = logits[i] - log_z;

  TokenLogprob out{token_id, logprobs_[token_id], {}};
  const int64_t k = std::min<int64_t>(num_top, vocab_size_);
  if (k == 0) return out;
  std::iota(order_.begin(), order_.end(), 0);
  std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), [&](int32_t a, int32_t b) {
    return logprobs_[a] > logprobs_[b] || (logprobs_[a] == logprobs_[b] && a < b);
  });
  out.top.reserve(k);
  for (int64_t i = 0; i < k; ++i) out.top.emplace_back(order_[i], logprobs_[order_[i]]);
  return out;
}

}  // namespace sieve::engine
