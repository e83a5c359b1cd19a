// SparseMlaHead against a double-precision softmax over the selected tokens only; unselected tokens must
// get exactly zero weight (changing them changes nothing, changing a selected one does). SparseMlaHeads
// must give every head SparseMlaHead's bits, and its in-register weighted sum the bits of an Axpy per key.
#include "kernels/sparse_mla_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "kernels/exp_sum.h"
#include "kernels/matmul.h"
#include "tests/unit/kernels/on_each_target.h"

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

// Heads key by key (the decode step's attention) against one head at a time: the same bits per head, with
// q_rope rows strided as in the query tensor [heads, nope + rope].
TEST(SparseMlaHeads, EveryHeadHasSparseMlaHeadsBits) {
  constexpr int64_t kHeads = 3, kStride = kRope + 5;
  const Inputs in = Random(5);
  std::mt19937 rng(6);
  std::normal_distribution<float> d;
  std::vector<float> q_latent(kHeads * kLatent), q_rope(kHeads * kStride);
  for (float& f : q_latent) f = d(rng);
  for (float& f : q_rope) f = d(rng);
  const std::vector<int32_t> selected = {0, 3, 4, 9, 10};
  const int64_t n = static_cast<int64_t>(selected.size());
  const LatentCache cache{in.latent.data(), in.k_rope.data(), kLatent, kRope};
  std::vector<float> scores(kHeads * n), together(kHeads * kLatent);
  SparseMlaHeads({.q_latent = q_latent.data(), .q_rope = q_rope.data(), .q_rope_stride = kStride, .out = together.data(),
                  .count = kHeads},
                 cache, selected.data(), n, 0.25f, scores.data());
  for (int64_t h = 0; h < kHeads; ++h) {
    std::vector<float> alone(kLatent);
    SparseMlaHead(q_latent.data() + h * kLatent, q_rope.data() + h * kStride, cache, selected.data(), n, 0.25f,
                  scores.data(), alone.data());
    EXPECT_EQ(std::memcmp(alone.data(), together.data() + h * kLatent, kLatent * sizeof(float)), 0) << "head " << h;
    if (h > 0) {  // negative control: heads differ
      EXPECT_NE(alone, std::vector<float>(together.begin(), together.begin() + kLatent));
    }
  }
}

class SparseMlaOnEachTarget : public OnEachTarget {};

// SparseMlaHeads for `heads` heads of latent width c and rope width r over 50 keys (every other one or so)
// against the per-head form: Dot calls, MaxOf / ExpShiftedSum, then Axpy(p / sum, latent, out) key after key.
void ExpectPerHeadBits(int64_t c, int64_t r, int64_t heads) {
  constexpr int64_t kKeys = 50;
  std::mt19937 rng(8);
  std::normal_distribution<float> d;
  std::vector<float> latent(kKeys * c), k_rope(kKeys * r), q_latent(heads * c), q_rope(heads * r);
  for (auto* v : {&latent, &k_rope, &q_latent, &q_rope})
    for (float& f : *v) f = d(rng);
  std::vector<int32_t> selected;
  for (int32_t i = 0; i < kKeys; i += 1 + static_cast<int32_t>(rng() % 2)) selected.push_back(i);
  const int64_t n = static_cast<int64_t>(selected.size());
  const float scale = 0.125f;
  std::vector<float> scores(heads * n), got(heads * c);
  const MlaQueryHeads query{.q_latent = q_latent.data(), .q_rope = q_rope.data(), .q_rope_stride = r, .out = got.data(),
                            .count = heads};
  SparseMlaHeads(query, {latent.data(), k_rope.data(), c, r}, selected.data(), n, scale, scores.data());
  std::vector<float> want(heads * c, 0.0f);
  for (int64_t h = 0; h < heads; ++h) {
    std::vector<float> p(n);
    float max_score = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      p[i] = (Dot(q_latent.data() + h * c, latent.data() + selected[i] * c, c) +
              Dot(q_rope.data() + h * r, k_rope.data() + selected[i] * r, r)) * scale;
      max_score = std::max(max_score, p[i]);
    }
    const float sum = ExpShiftedSum(p.data(), n, max_score, 1.0f);
    for (int64_t i = 0; i < n; ++i) Axpy(p[i] / sum, latent.data() + selected[i] * c, want.data() + h * c, c);
  }
  EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << c << " x " << heads << " heads";
  // The same from the two parts, the weighted sum in column runs of 16 (MlaAttention splits it by columns).
  std::vector<float> parts(heads * c);
  MlaQueryHeads parts_query = query;
  parts_query.out = parts.data();
  SparseMlaScores(parts_query, {latent.data(), k_rope.data(), c, r}, selected.data(), n, 0, n, scale, scores.data());
  SparseMlaSoftmax(scores.data(), heads, n);
  for (int64_t c0 = 0; c0 < c; c0 += 16)
    SparseMlaWeightedSum(parts_query, {latent.data(), k_rope.data(), c, r}, selected.data(), n, scores.data(), c0,
                         std::min(c, c0 + 16));
  EXPECT_EQ(std::memcmp(parts.data(), want.data(), parts.size() * sizeof(float)), 0) << c << " x " << heads << " heads";
  latent[selected[1] * c + 5] += 1.0f;  // negative control: a selected latent moves the output
  std::vector<float> moved(heads * c);
  MlaQueryHeads moved_query = query;
  moved_query.out = moved.data();
  SparseMlaHeads(moved_query, {latent.data(), k_rope.data(), c, r}, selected.data(), n, scale, scores.data());
  EXPECT_NE(moved, got);
}

// With whole vectors of latent columns the weighted sum runs in registers over all keys, and with widths
// of whole groups of 4 vectors the scores run for 4 heads per key load (a fixed-size loop at DeepSeek's
// width 512): both must keep the bits of the per-head form, for a partial group of 1, 2 or 3 heads too.
// The `small` / real widths (512, 64) take both blocked paths on every target; (64, 8) leaves the scores
// on Dot calls on the wider targets and takes the runtime-width loop on the scalar one; (40, 8) leaves the
// weighted sum on Axpy calls on AVX-512, whose last run of columns ends in Axpy's scalar tail.
TEST_P(SparseMlaOnEachTarget, WeightedSumInRegistersEqualsAxpyPerKey) {
  for (const auto& [c, r] : {std::pair<int64_t, int64_t>{64, 8}, {40, 8}, {512, 64}})
    for (const int64_t heads : {5, 6, 7}) ExpectPerHeadBits(c, r, heads);
}

SIEVE_INSTANTIATE_ON_EACH_TARGET(SparseMlaOnEachTarget);

}  // namespace
}  // namespace sieve::kernels
