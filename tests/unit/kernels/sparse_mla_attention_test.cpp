// SparseMlaHead against a double-precision softmax over the selected tokens only; unselected tokens must
// get exactly zero weight (changing them changes nothing, changing a selected one does).
#include "kernels/sparse_mla_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace sieve::kernels {
namespace {

constexpr int64_t kLatent = 19, kRope = 6, kTokens = 11;

struct Inputs {
  std::vector<float> q_latent, q_rope, latent, k_rope;
};

Inputs Random(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  Inputs in{std::vector<float>(kLatent), std::vector<float>(kRope), std::vector<float>(kTokens * kLatent),
            std::vector<float>(kTokens * kRope)};
  for (auto* v : {&in.q_latent, &in.q_rope, &in.latent, &in.k_rope})
    for (float& f : *v) f = d(rng);
  return in;
}

std::vector<float> Attend(const Inputs& in, const std::vector<int32_t>& selected, float scale) {
  std::vector<float> scores(selected.size()), out(kLatent);
  SparseMlaHead(in.q_latent.data(), in.q_rope.data(), {in.latent.data(), in.k_rope.data(), kLatent, kRope},
                selected.data(), static_cast<int64_t>(selected.size()), scale, scores.data(), out.data());
  return out;
}

TEST(SparseMlaHead, MatchesDoublePrecisionSoftmaxOverSelectedTokens) {
  const Inputs in = Random(3);
  const std::vector<int32_t> selected = {0, 2, 3, 7, 10};
  const float scale = 0.3f;
  const std::vector<float> got = Attend(in, selected, scale);
  std::vector<double> logits;
  double mx = -INFINITY;
  for (int32_t s : selected) {
    double dot = 0;
    for (int64_t c = 0; c < kLatent; ++c) dot += static_cast<double>(in.q_latent[c]) * in.latent[s * kLatent + c];
    for (int64_t r = 0; r < kRope; ++r) dot += static_cast<double>(in.q_rope[r]) * in.k_rope[s * kRope + r];
    logits.push_back(dot * scale);
    mx = std::max(mx, logits.back());
  }
  double sum = 0;
  for (double& l : logits) sum += (l = std::exp(l - mx));
  for (int64_t c = 0; c < kLatent; ++c) {
    double want = 0;
    for (size_t i = 0; i < selected.size(); ++i) want += logits[i] / sum * in.latent[selected[i] * kLatent + c];
    EXPECT_NEAR(got[c], want, 1e-5) << c;
  }
}

TEST(SparseMlaHead, UnselectedTokensGetZeroWeight) {
  Inputs in = Random(4);
  const std::vector<int32_t> selected = {1, 4, 5};
  const std::vector<float> before = Attend(in, selected, 0.2f);
  for (int64_t c = 0; c < kLatent; ++c) in.latent[6 * kLatent + c] += 100.0f;  // token 6 is not selected
  EXPECT_EQ(Attend(in, selected, 0.2f), before);
  for (int64_t c = 0; c < kLatent; ++c) in.latent[4 * kLatent + c] += 1.0f;  // token 4 is
  EXPECT_NE(Attend(in, selected, 0.2f), before);
}

}  // namespace
}  // namespace sieve::kernels
