// Speculative sampling preserves the target distribution: chi-square of the emitted tokens against the
// exact target p over many draws on a tiny vocabulary (fixed seeds), for a general draft distribution
// q and for the engine's path (Sampler::Verify with a greedy, one-hot draft, temperature and top_k).
// Negative controls: deliberately wrong acceptance rules must fail the same test.
#include "engine/rejection_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "engine/sampler.h"

namespace sieve::engine {
namespace {

constexpr int kDraws = 200000;

// Pearson's chi-square of `counts` against `p` (cells with p = 0 must stay empty: a hit there is infinite).
double ChiSquare(const std::vector<int>& counts, const std::vector<double>& p) {
  double chi2 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double expected = p[i] * kDraws;
    if (expected == 0) {
      if (counts[i] > 0) return INFINITY;
      continue;
    }
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return chi2;
}
// Upper 0.1% points of chi-square with 5 and 3 degrees of freedom (6 and 4 possible cells): a correct
// sampler fails 1 seed in 1000; the fixed seeds below pass. The wrong rules miss by far more (expected
// chi-square about 23000, 2000 and beyond).
constexpr double kCritical5Dof = 20.52;
constexpr double kCritical3Dof = 16.27;

const std::vector<double> kP = {0.05, 0.30, 0.10, 0.25, 0.20, 0.10};
const std::vector<double> kQ = {0.40, 0.05, 0.20, 0.05, 0.10, 0.20};

int DrawFrom(const std::vector<double>& w, std::mt19937_64& rng) {
  double u = UniformDouble(rng), c = 0;
  for (size_t i = 0; i < w.size(); ++i)
    if ((c += w[i]) > u) return static_cast<int>(i);
  return static_cast<int>(w.size()) - 1;
}

using Rule = std::function<int32_t(const std::vector<double>&, const std::vector<double>&, int32_t, std::mt19937_64&)>;

double ChiSquareOfRule(const Rule& rule) {
  std::mt19937_64 rng(7);
  std::vector<int> counts(kP.size(), 0);
  for (int i = 0; i < kDraws; ++i) ++counts[rule(kP, kQ, DrawFrom(kQ, rng), rng)];
  return ChiSquare(counts, kP);
}

TEST(RejectionSamplerTest, EmittedTokensFollowTheTarget) {
  const double chi2 = ChiSquareOfRule([](auto& p, auto& q, int32_t d, auto& rng) { return RejectionSample(p, q, d, rng).token_id; });
  EXPECT_LT(chi2, kCritical5Dof);
}

TEST(RejectionSamplerTest, WrongRulesFailTheSameTest) {
  // Always accepting emits q.
  EXPECT_GT(ChiSquareOfRule([](auto&, auto&, int32_t d, auto&) { return d; }), 1000);
  // Resampling from p instead of the residual max(0, p - q) over-weights the drafted tokens.
  EXPECT_GT(ChiSquareOfRule([](auto& p, auto& q, int32_t d, auto& rng) {
              if (UniformDouble(rng) * q[d] < p[d]) return d;
              return DrawFrom(p, rng);
            }),
            1000);
  // Accepting with probability p (ignoring q) is only right for a one-hot q.
  EXPECT_GT(ChiSquareOfRule([](auto& p, auto& q, int32_t d, auto& rng) {
              if (UniformDouble(rng) < p[d]) return d;
              return RejectionSample(p, q, d, rng).token_id;
            }),
            1000);
}

// The engine's path: the MTP draft is an argmax (q one-hot); Sampler::Verify must still emit the
// processed target (temperature 0.7, top_k 4 of 6) exactly.
TEST(RejectionSamplerTest, SamplerVerifyFollowsTheProcessedTarget) {
  const std::vector<float> logits = {0.2f, 1.5f, -0.3f, 1.1f, 0.9f, -2.0f};
  SamplingParams params;
  params.temperature = 0.7;
  params.top_k = 4;
  std::vector<double> p(logits.size(), 0.0);  // softmax(logits / 0.7) over the top 4 (ids 0, 1, 3, 4)
  double total = 0;
  for (int i : {0, 1, 3, 4}) total += p[i] = std::exp(logits[i] / 0.7);
  for (double& x : p) x /= total;

  Sampler sampler(6, 5, LogprobsMode::kRaw);
  std::mt19937_64 rng(11);
  const std::vector<int32_t> no_ids;
  for (int32_t draft : {1, 4, 2}) {  // the likeliest token, a less likely one, one top_k removes
    std::vector<int> counts(logits.size(), 0);
    for (int i = 0; i < kDraws; ++i)
      ++counts[sampler.Verify(logits, SamplingContext{params, no_ids, no_ids, rng}, draft).token_id];
    EXPECT_LT(ChiSquare(counts, p), kCritical3Dof) << "draft " << draft;
  }
}

}  // namespace
}  // namespace sieve::engine
