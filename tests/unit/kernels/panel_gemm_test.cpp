// kernels/panel_gemm.h on every compiled Highway target: PackPanel's layout, and the bits its header promises (one fma chain per
// output over each block of kPanelGemmDepth, blocks added in order), in both B layouts, with edges in all
// three dimensions (rows of a past a register tile, columns past a group, k past a block).
#include "kernels/panel_gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tests/unit/kernels/on_each_target.h"

namespace sieve::kernels {
namespace {

// c[i, j] as the header defines it, for B given by element(kk, j): multiply-adds fused, or (targets
// without FMA: SSE2, SSE4, the scalar one) a multiply then an add.
template <class B>
float Expected(const std::vector<float>& a, int64_t lda, int64_t i, int64_t j, int64_t k, B element, bool fused) {
  float c = 0.0f;
  for (int64_t k0 = 0; k0 < k; k0 += kPanelGemmDepth) {
    float sum = 0.0f;
    for (int64_t kk = k0; kk < std::min(k, k0 + kPanelGemmDepth); ++kk) {
      const float product = a[i * lda + kk] * element(kk, j);
      sum = fused ? std::fma(a[i * lda + kk], element(kk, j), sum) : sum + product;
    }
    c = k0 == 0 ? sum : c + sum;
  }
  return c;
}

bool SameBits(float x, float y) { return std::memcmp(&x, &y, sizeof(float)) == 0; }

class PanelGemmTest : public OnEachTarget {};

TEST_P(PanelGemmTest, BothLayoutsGiveTheDefinedBitsAndLeaveOtherColumnsAlone) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const int64_t group = PanelGemmGroupColumns();
  ASSERT_GE(group, 2);
  for (const auto [m, n, k] : {std::array<int64_t, 3>{1, 1, 1}, {9, group + 3, 100}, {17, 2 * group, kPanelGemmDepth + 37},
                               {8, group - 1, 2 * kPanelGemmDepth}}) {
    SCOPED_TRACE(testing::Message() << "m " << m << " n " << n << " k " << k);
    const int64_t lda = k + 3, ldc = n + 5, groups = (n + group - 1) / group;
    std::vector<float> a(m * lda), dense(k * n);  // dense: B [k, n]
    for (float& v : a) v = normal(rng);
    for (float& v : dense) v = normal(rng);
    // Packed: group g [k, group] at g * k * group; row-major padded: [k, ld] with ld = groups * group.
    const int64_t ld = groups * group;
    std::vector<float> packed(groups * k * group, 0.0f), padded(k * ld, 0.0f);
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j) {
        packed[(j / group) * k * group + kk * group + j % group] = dense[kk * n + j];
        padded[kk * ld + j] = dense[kk * n + j];
      }
    const int64_t ldw = k + 3;  // W = B^T [n, k] with padded rows, as keys in a [tokens, heads, dim] tensor
    std::vector<float> w(n * ldw, 99.0f), from_pack_panel(groups * k * group, -1.0f);
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j) w[j * ldw + kk] = dense[kk * n + j];
    PackPanel(w.data(), ldw, n, k, from_pack_panel.data());
    EXPECT_EQ(from_pack_panel, packed) << "PackPanel";
    const auto element = [&](int64_t kk, int64_t j) { return dense[kk * n + j]; };
    constexpr float kUntouched = -12345.0f;
    for (const bool use_packed : {true, false}) {
      std::vector<float> c(m * ldc, kUntouched);
      if (use_packed) {
        PanelGemm(m, n, k, a.data(), lda, packed.data(), group, k * group, c.data(), ldc);
      } else {
        PanelGemm(m, n, k, a.data(), lda, padded.data(), ld, group, c.data(), ldc);
      }
      int64_t not_fused = 0, not_unfused = 0, touched = 0;
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          not_fused += !SameBits(c[i * ldc + j], Expected(a, lda, i, j, k, element, true));
          not_unfused += !SameBits(c[i * ldc + j], Expected(a, lda, i, j, k, element, false));
        }
        for (int64_t j = n; j < ldc; ++j) touched += c[i * ldc + j] != kUntouched;
      }
      EXPECT_EQ(std::min(not_fused, not_unfused), 0) << (use_packed ? "packed" : "row-major");
      EXPECT_EQ(touched, 0) << (use_packed ? "packed" : "row-major");
    }
  }
}

// Negative control for the comparison above: one chain over all of k (no blocks) differs in the last bits
// for a deep product, so the bit test can tell the block order apart.
TEST_P(PanelGemmTest, BlockOrderIsVisibleInTheBits) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  const int64_t group = PanelGemmGroupColumns(), k = 3 * kPanelGemmDepth, n = group;
  std::vector<float> a(8 * k), packed(k * group);
  for (float& v : a) v = normal(rng);
  for (float& v : packed) v = normal(rng);
  std::vector<float> c(8 * n);
  PanelGemm(8, n, k, a.data(), k, packed.data(), group, k * group, c.data(), n);
  int64_t differ = 0;
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float chain = 0.0f;  // fused or not, the chain differs from the blocked sums
      for (int64_t kk = 0; kk < k; ++kk) chain = std::fma(a[i * k + kk], packed[kk * group + j], chain);
      differ += !SameBits(chain, c[i * n + j]);
      EXPECT_NEAR(chain, c[i * n + j], 1e-3f * std::sqrt(static_cast<float>(k)));
    }
  EXPECT_GT(differ, 0);
}

SIEVE_INSTANTIATE_ON_EACH_TARGET(PanelGemmTest);

}  // namespace
}  // namespace sieve::kernels
