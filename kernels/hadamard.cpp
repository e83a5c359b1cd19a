// Fast Walsh-Hadamard transform (see hadamard.h): log2(n) butterfly passes, then the n^-0.5 scale.
// Compiled once per Highway target and dispatched at runtime: the indexer rotates every head of every
// query (64 x 128 floats per token), which in scalar code was ~4% of a 2,048-token prefill's samples.
// Every butterfly is the same a + b and a - b in any form, so all targets give the scalar loop's bits.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/hadamard.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <cmath>

#include "kernels/hadamard.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Pairs `half` apart: (x[j], x[j + half]) <- (a + b, a - b) for every j with (j & half) == 0.
void ScalarPass(float* x, int64_t n, int64_t half) {
  for (int64_t i = 0; i < n; i += 2 * half)
    for (int64_t j = i; j < i + half; ++j) {
      const float a = x[j], b = x[j + half];
      x[j] = a + b;
      x[j + half] = a - b;
    }
}

void HadamardRotateImpl(float* x, int64_t n) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t half = 1;
  if (n >= lanes) {
    // Pairs inside one vector: each lane's partner is lane i ^ half (one permute); the lower lane of a pair
    // keeps x + partner = a + b, the upper one partner - x = a - b.
    for (; half < lanes; half *= 2) {
      const auto iota = hn::Iota(du, 0);
      const auto partner = hn::IndicesFromVec(df, hn::Xor(iota, hn::Set(du, static_cast<uint32_t>(half))));
      const auto upper = hn::RebindMask(df, hn::Ne(hn::And(iota, hn::Set(du, static_cast<uint32_t>(half))), hn::Zero(du)));
      for (int64_t i = 0; i < n; i += lanes) {
        const auto v = hn::LoadU(df, x + i);
        const auto p = hn::TableLookupLanes(v, partner);
        hn::StoreU(hn::IfThenElse(upper, hn::Sub(p, v), hn::Add(v, p)), df, x + i);
      }
    }
    // Pairs of whole vectors.
    for (; half < n; half *= 2)
      for (int64_t i = 0; i < n; i += 2 * half)
        for (int64_t j = i; j < i + half; j += lanes) {
          const auto a = hn::LoadU(df, x + j), b = hn::LoadU(df, x + j + half);
          hn::StoreU(hn::Add(a, b), df, x + j);
          hn::StoreU(hn::Sub(a, b), df, x + j + half);
        }
  }
  for (; half < n; half *= 2) ScalarPass(x, n, half);  // n below one vector
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  for (int64_t i = 0; i < n; ++i) x[i] *= scale;
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(HadamardRotateImpl);

void HadamardRotate(float* x, int64_t n) { HWY_DYNAMIC_DISPATCH(HadamardRotateImpl)(x, n); }
}  // namespace sieve::kernels
#endif
