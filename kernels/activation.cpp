// SwiGLU activation (see activation.h), compiled once per Highway target and dispatched at runtime. In
// SIMD and over the pool: with a scalar expf on the calling thread it was 3% of a 2,048-token prefill
// (docs/performance.md, round 11), one core busy and the other idle.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/activation.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/activation.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D>
HWY_INLINE hn::Vec<D> SiluTimes(D df, hn::Vec<D> g, hn::Vec<D> u) {
  return hn::Mul(hn::Div(g, hn::Add(hn::Set(df, 1.0f), hn::Exp(df, hn::Neg(g)))), u);
}

void SiluMulImpl(const float* gate, const float* up, int64_t n, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(SiluTimes(df, hn::LoadU(df, gate + i), hn::LoadU(df, up + i)), df, out + i);
  if (i < n) {  // the tail through one padded vector (zeros: silu(0) * 0 = 0), the same lanes' arithmetic
    HWY_ALIGN float g[HWY_MAX_BYTES / sizeof(float)] = {}, u[HWY_MAX_BYTES / sizeof(float)] = {};
    std::copy(gate + i, gate + n, g);
    std::copy(up + i, up + n, u);
    hn::Store(SiluTimes(df, hn::Load(df, g), hn::Load(df, u)), df, g);
    std::copy(g, g + (n - i), out + i);
  }
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(SiluMulImpl);

void SiluMul(const float* gate, const float* up, int64_t n, float* out, ThreadPool& pool) {
  // 4,096 elements per unit: a decode step's few experts (a few thousand elements) stay on the caller.
  pool.ParallelFor(n, [&](int64_t i0, int64_t i1) {
    HWY_DYNAMIC_DISPATCH(SiluMulImpl)(gate + i0, up + i0, i1 - i0, out + i0);
  }, /*grain=*/4096);
}
}  // namespace sieve::kernels
#endif
