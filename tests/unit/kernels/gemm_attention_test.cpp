// GemmAttention against a double-precision masked softmax, with strided operands laid out as one head of a
// [tokens, heads, dim] tensor, more queries than one block, and causal as well as sparse key sets.
#include "kernels/gemm_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace sieve::kernels {
namespace {

constexpr int64_t kHeads = 3, kHead = 1, kQk = 13, kKeys = 150, kQueries = 150;
// Value widths: 7 (the GEMM reads v through rows padded to its groups of columns), 64 (v read in place).
constexpr int64_t kValueWidths[] = {7, 64};
constexpr float kScale = 0.2f;

struct Operands {
  int64_t v_dim;
  std::vector<float> q, k, v;  // q [queries, heads, qk], k [keys, qk + 2] (padded rows), v [keys, v_dim + 1]
};

Operands Random(uint32_t seed, int64_t v_dim) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  Operands o{v_dim, std::vector<float>(kQueries * kHeads * kQk), std::vector<float>(kKeys * (kQk + 2)),
             std::vector<float>(kKeys * (v_dim + 1))};
  for (auto* x : {&o.q, &o.k, &o.v})
    for (float& f : *x) f = d(rng);
  return o;
}

GemmAttentionInput View(const Operands& o) {
  return {.q = o.q.data() + kHead * kQk, .q_stride = kHeads * kQk, .k = o.k.data(), .k_stride = kQk + 2,
          .v = o.v.data(), .v_stride = o.v_dim + 1, .n_keys = kKeys, .qk_dim = kQk, .v_dim = o.v_dim,
          .softmax_scale = kScale};
}

// Query i sees keys 0..i (causal); every third query instead a sparse set: every other key up to i and 0.
std::vector<std::vector<int32_t>> KeySets() {
  std::vector<std::vector<int32_t>> keys(kQueries);
  for (int32_t i = 0; i < kQueries; ++i)
    for (int32_t s = 0; s <= i; ++s)
      if (i % 3 != 0 || s % 2 == 0 || s == i) keys[i].push_back(s);
  return keys;
}

// out [queries, heads, v] with only head kHead written.
std::vector<float> Attend(const Operands& o, const std::vector<std::vector<int32_t>>& keys, int threads) {
  ThreadPool pool(threads);
  const int64_t kV = o.v_dim;
  std::vector<float> out(kQueries * kHeads * kV, -1.0f);
  GemmAttention(View(o), keys, out.data() + kHead * kV, kHeads * kV, pool);
  return out;
}

TEST(GemmAttention, MatchesDoublePrecisionMaskedSoftmax) {
  for (const int64_t kV : kValueWidths) {
    SCOPED_TRACE(testing::Message() << "v_dim " << kV);
    const Operands o = Random(5, kV);
    const auto keys = KeySets();
    const std::vector<float> got = Attend(o, keys, 2);
    for (int64_t i = 0; i < kQueries; ++i) {
      std::vector<double> p;
      double mx = -INFINITY, sum = 0;
      for (int32_t s : keys[i]) {
        double dot = 0;
        for (int64_t d = 0; d < kQk; ++d) dot += static_cast<double>(o.q[(i * kHeads + kHead) * kQk + d]) * o.k[s * (kQk + 2) + d];
        p.push_back(dot * kScale);
        mx = std::max(mx, p.back());
      }
      for (double& x : p) sum += (x = std::exp(x - mx));
      for (int64_t d = 0; d < kV; ++d) {
        double want = 0;
        for (size_t j = 0; j < keys[i].size(); ++j) want += p[j] / sum * o.v[keys[i][j] * (kV + 1) + d];
        EXPECT_NEAR(got[(i * kHeads + kHead) * kV + d], want, 2e-5) << "query " << i << " dim " << d;
      }
      // The other heads' slices are not touched.
      EXPECT_EQ(got[(i * kHeads) * kV], -1.0f);
    }
  }
}

TEST(GemmAttention, KeysOutsideAQuerysSetGetZeroWeight) {
  for (const int64_t kV : kValueWidths) {
    SCOPED_TRACE(testing::Message() << "v_dim " << kV);
    Operands o = Random(6, kV);
    const auto keys = KeySets();
    const std::vector<float> before = Attend(o, keys, 2);
    // Key 149 is in query 149's set only; key 1 is outside every third query's set.
    for (int64_t d = 0; d < kQk; ++d) o.k[149 * (kQk + 2) + d] = 50.0f;
    for (int64_t d = 0; d < kV; ++d) o.v[1 * (kV + 1) + d] += 100.0f;
    const std::vector<float> after = Attend(o, keys, 2);
    for (int64_t i = 0; i < kQueries; ++i)
      for (int64_t d = 0; d < kV; ++d) {
        const size_t at = static_cast<size_t>((i * kHeads + kHead) * kV + d);
        if (i == 149 || (i >= 1 && i % 3 != 0))
          EXPECT_NE(after[at], before[at]) << "query " << i;
        else
          EXPECT_EQ(after[at], before[at]) << "query " << i;
      }
  }
}

TEST(GemmAttention, ThreadCountDoesNotChangeTheBits) {
  for (const int64_t v_dim : kValueWidths) {
    const Operands o = Random(7, v_dim);
    const auto keys = KeySets();
    const std::vector<float> one = Attend(o, keys, 1);
    for (int threads : {2, 3, 4}) EXPECT_EQ(Attend(o, keys, threads), one) << threads << " threads, v_dim " << v_dim;
  }
}

}  // namespace
}  // namespace sieve::kernels
