// kernels/index_score.h on every compiled Highway target: against a double-precision reference of
// I[s] = sum_h w[h] * ReLU(q[h] . k[s]), with head counts that are and are not whole vectors and a key count
// that leaves a tail; and splitting the keys into blocks gives the same bits (the decode step splits them
// over threads).
#include "kernels/index_score.h"

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <random>
#include <vector>

namespace sieve::kernels {
namespace {

class IndexScoresOnEachTarget : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { hwy::SetSupportedTargetsForTest(GetParam()); }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

std::vector<float> Normal(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& f : v) f = d(rng);
  return v;
}

TEST_P(IndexScoresOnEachTarget, MatchesReferenceAndDoesNotDependOnBlocking) {
  std::mt19937 rng(17);
  const int64_t head_dim = 128, n_keys = 37;
  for (const int64_t n_heads : {16, 64, 20}) {
    const std::vector<float> q = Normal(n_heads * head_dim, rng), w = Normal(n_heads, rng);
    const std::vector<float> keys = Normal(n_keys * head_dim, rng);
    std::vector<float> scores(n_keys), split(n_keys);
    IndexScores(q.data(), w.data(), n_heads, head_dim, keys.data(), n_keys, scores.data());
    for (int64_t s = 0; s < n_keys; ++s) {
      double want = 0, magnitude = 0;
      for (int64_t h = 0; h < n_heads; ++h) {
        double dot = 0, dot_magnitude = 0;
        for (int64_t d = 0; d < head_dim; ++d) {
          dot += static_cast<double>(q[h * head_dim + d]) * keys[s * head_dim + d];
          dot_magnitude += std::abs(static_cast<double>(q[h * head_dim + d]) * keys[s * head_dim + d]);
        }
        want += w[h] * std::max(0.0, dot);
        magnitude += std::abs(w[h]) * dot_magnitude;
      }
      EXPECT_LE(std::abs(scores[s] - want), 1e-5 * magnitude) << n_heads << " heads, key " << s;
    }
    const int64_t cut = 5;  // blocks [0, 5) and [5, 37): different key groupings and tails
    IndexScores(q.data(), w.data(), n_heads, head_dim, keys.data(), cut, split.data());
    IndexScores(q.data(), w.data(), n_heads, head_dim, keys.data() + cut * head_dim, n_keys - cut, split.data() + cut);
    EXPECT_EQ(scores, split) << n_heads << " heads";
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, IndexScoresOnEachTarget, ::testing::ValuesIn(hwy::SupportedAndGeneratedTargets()),
                         [](const ::testing::TestParamInfo<int64_t>& info) { return std::string(hwy::TargetName(info.param)); });

}  // namespace
}  // namespace sieve::kernels
