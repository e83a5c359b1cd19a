// Sampler: greedy, bias and penalties, min_tokens, the filtering rules and the seeded draw.
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

namespace sieve::engine {
namespace {

constexpr int32_t kEos = 0;

struct Harness {
  explicit Harness(int64_t vocab, LogprobsMode mode = LogprobsMode::kRaw) : sampler(vocab, kEos, mode) {}
  SampleResult Sample(const std::vector<float>& logits, const SamplingParams& p, uint64_t seed = 1) {
    std::mt19937_64 rng = SequenceGenerator(seed, 0);
    return sampler.Sample(logits, SamplingContext{p, prompt, output, rng});
  }
  Sampler sampler;
  std::vector<int32_t> prompt, output;
};

SamplingParams Greedy() {
  SamplingParams p;
  p.temperature = 0;
  return p;
}

TEST(Sampler, GreedyTakesArgmaxAndLogitBiasMovesIt) {
  Harness h(4);
  const std::vector<float> logits = {0.0f, 3.0f, 2.5f, 1.0f};
  EXPECT_EQ(h.Sample(logits, Greedy()).token_id, 1);
  SamplingParams p = Greedy();
  p.logit_bias[2] = 1.0f;
  EXPECT_EQ(h.Sample(logits, p).token_id, 2);
}

TEST(Sampler, MinTokensMasksEosAndStopIds) {
  Harness h(4);
  const std::vector<float> logits = {9.0f, 1.0f, 8.0f, 0.0f};
  SamplingParams p = Greedy();
  p.min_tokens = 1;
  p.stop_token_ids = {2};
  EXPECT_EQ(h.Sample(logits, p).token_id, 1);
  h.output = {3};  // min_tokens reached
  EXPECT_EQ(h.Sample(logits, p).token_id, kEos);
}

TEST(Sampler, PenaltiesFollowVllmFormulas) {
  Harness h(4, LogprobsMode::kProcessed);
  const std::vector<float> logits = {0.0f, 2.0f, -1.0f, 1.0f};
  SamplingParams p = Greedy();
  p.logprobs = 4;
  p.repetition_penalty = 2.0;
  p.frequency_penalty = 0.25;
  p.presence_penalty = 0.5;
  h.prompt = {1};        // repetition only: 2 -> 1
  h.output = {2, 2, 3};  // -1 -> -2 (rep) -0.5 -0.5 = -3 ; 1 -> 0.5 (rep) -0.25 -0.5 = -0.25
  SampleResult r = h.Sample(logits, p);
  ASSERT_TRUE(r.logprob);
  std::vector<float> want = {0.0f, 1.0f, -3.0f, -0.25f};
  double z = 0;
  for (float w : want) z += std::exp(w);
  for (auto [id, lp] : r.logprob->top) EXPECT_NEAR(lp, want[id] - std::log(z), 1e-5) << "token " << id;
  EXPECT_EQ(r.token_id, 1);
}

TEST(Sampler, RawLogprobsIgnoreProcessing) {
  Harness h(3, LogprobsMode::kRaw);
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  SamplingParams p = Greedy();
  p.logit_bias[0] = 100.0f;
  p.logprobs = 1;
  SampleResult r = h.Sample(logits, p);
  EXPECT_EQ(r.token_id, 0);
  const double z = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(r.logprob->logprob, 1.0 - z, 1e-5);
  ASSERT_EQ(r.logprob->top.size(), 1u);
  EXPECT_EQ(r.logprob->top[0].first, 2);
}

TEST(Sampler, TopPKeepsTheNucleus) {
  Harness h(4, LogprobsMode::kProcessed);
  // probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.75 keeps {0, 1}.
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  SamplingParams p;
  p.top_p = 0.75;
  p.logprobs = 4;
  SampleResult r = h.Sample(logits, p);
  for (auto [id, lp] : r.logprob->top) {
    if (id >= 2) {
      EXPECT_TRUE(std::isinf(lp)) << id;
    } else {
      EXPECT_NEAR(lp, std::log((id == 0 ? 0.5 : 0.3) / 0.8), 1e-5) << id;
    }
  }
}

TEST(Sampler, TopKThenMinP) {
  Harness h(5, LogprobsMode::kProcessed);
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f};
  SamplingParams p;
  p.top_k = 3;  // {2, 3, 4}
  p.logprobs = 5;
  auto num_finite = [&] {
    const SampleResult r = h.Sample(logits, p);
    int finite = 0;
    for (auto [id, lp] : r.logprob->top) finite += std::isfinite(lp) ? 1 : 0;
    return finite;
  };
  EXPECT_EQ(num_finite(), 3);
  p.top_k = 0;
  p.min_p = 0.3;  // p_i >= 0.3 p_max <=> logit >= 4 + log 0.3 = 2.796: {3, 4}
  EXPECT_EQ(num_finite(), 2);
}

// A nucleus wider than the first sorted head (64 tokens) must still be found exactly.
TEST(Sampler, TopPOverAWideNucleusNeverDrawsOutside) {
  Harness h(200);
  const std::vector<float> logits(200, 0.0f);  // uniform; ties break by id, so the nucleus is ids < 180
  SamplingParams p;
  p.top_p = 0.8975;
  std::mt19937_64 rng = SequenceGenerator(7, 0);
  int max_id = 0;
  for (int i = 0; i < 4000; ++i)
    max_id = std::max(max_id, h.sampler.Sample(logits, SamplingContext{p, h.prompt, h.output, rng}).token_id);
  EXPECT_EQ(max_id, 179);
}

TEST(Sampler, DrawsFollowTheDistribution) {
  Harness h(3);
  const std::vector<float> logits = {std::log(0.2f), std::log(0.3f), std::log(0.5f)};
  SamplingParams p;
  std::mt19937_64 rng = SequenceGenerator(123, 0);
  std::vector<int> counts(3, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[h.sampler.Sample(logits, SamplingContext{p, h.prompt, h.output, rng}).token_id];
  EXPECT_NEAR(counts[0] / double(n), 0.2, 0.015);
  EXPECT_NEAR(counts[1] / double(n), 0.3, 0.015);
  EXPECT_NEAR(counts[2] / double(n), 0.5, 0.015);
}

// Draw sums the exponentials in blocks of 4,096 tokens: a vocabulary of three blocks with the mass on one
// token of each (the rest -inf, never drawn), then a flat one whose draws fall into every block evenly.
TEST(Sampler, DrawsFollowTheDistributionAcrossBlocks) {
  constexpr int kVocab = 9000;
  Harness h(kVocab);
  std::vector<float> logits(kVocab, -std::numeric_limits<float>::infinity());
  logits[100] = std::log(0.2f);
  logits[4500] = std::log(0.3f);
  logits[8999] = std::log(0.5f);
  SamplingParams p;
  std::mt19937_64 rng = SequenceGenerator(321, 0);
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[h.sampler.Sample(logits, SamplingContext{p, h.prompt, h.output, rng}).token_id];
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_NEAR(counts[100] / double(n), 0.2, 0.015);
  EXPECT_NEAR(counts[4500] / double(n), 0.3, 0.015);
  EXPECT_NEAR(counts[8999] / double(n), 0.5, 0.015);

  const std::vector<float> flat(kVocab, 0.0f);
  std::vector<int> per_block(3, 0);
  for (int i = 0; i < 9000; ++i) ++per_block[h.sampler.Sample(flat, SamplingContext{p, h.prompt, h.output, rng}).token_id / 3000];
  for (int b = 0; b < 3; ++b) EXPECT_NEAR(per_block[b] / 9000.0, 1.0 / 3, 0.03) << b;
}

TEST(Sampler, SameSeedReproducesDifferentSeedDiffers) {
  Harness h(50);
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[i] = std::sin(i * 0.7f);
  SamplingParams p;
  p.temperature = 1.5;
  auto draws = [&](uint64_t seed, int choice) {
    std::mt19937_64 rng = SequenceGenerator(seed, choice);
    std::vector<int32_t> out;
    for (int i = 0; i < 32; ++i) out.push_back(h.sampler.Sample(logits, SamplingContext{p, h.prompt, h.output, rng}).token_id);
    return out;
  };
  EXPECT_EQ(draws(5, 0), draws(5, 0));
  EXPECT_NE(draws(5, 0), draws(6, 0));  // negative control
  EXPECT_NE(draws(5, 0), draws(5, 1));  // n > 1 choices differ
}

}  // namespace
}  // namespace sieve::engine
