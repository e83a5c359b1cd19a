// Softmax building blocks (see exp_sum.h), compiled once per Highway target and dispatched at runtime.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/exp_sum.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/exp_sum.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// x[i] = exp((x[i] - shift) * scale) for i < n; returns their sum.
float ExpShiftedSumImpl(float* x, int64_t n, float shift, float scale) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const auto vshift = hn::Set(df, shift), vscale = hn::Set(df, scale);
  auto sum = hn::Zero(df);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto e = hn::Exp(df, hn::Mul(hn::Sub(hn::LoadU(df, x + i), vshift), vscale));
    hn::StoreU(e, df, x + i);
    sum = hn::Add(sum, e);
  }
  if (i < n) {  // the tail through one padded vector, its padding masked out of the sum
    HWY_ALIGN float tail[HWY_MAX_BYTES / sizeof(float)];
    std::fill(tail, tail + lanes, shift);
    std::copy(x + i, x + n, tail);
    const auto e = hn::Exp(df, hn::Mul(hn::Sub(hn::Load(df, tail), vshift), vscale));
    hn::Store(e, df, tail);
    std::copy(tail, tail + (n - i), x + i);
    sum = hn::Add(sum, hn::IfThenElseZero(hn::FirstN(df, static_cast<size_t>(n - i)), e));
  }
  return hn::GetLane(hn::SumOfLanes(df, sum));
}

// max of x[0, n), n > 0.
float MaxImpl(const float* x, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  float best = x[0];
  int64_t i = 0;
  if (n >= lanes) {
    auto v = hn::LoadU(df, x);
    for (i = lanes; i + lanes <= n; i += lanes) v = hn::Max(v, hn::LoadU(df, x + i));
    best = hn::GetLane(hn::MaxOfLanes(df, v));
  }
  for (; i < n; ++i) best = std::max(best, x[i]);
  return best;
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(ExpShiftedSumImpl);
HWY_EXPORT(MaxImpl);

float ExpShiftedSum(float* x, int64_t n, float shift, float scale) {
  return HWY_DYNAMIC_DISPATCH(ExpShiftedSumImpl)(x, n, shift, scale);
}
float MaxOf(const float* x, int64_t n) { return HWY_DYNAMIC_DISPATCH(MaxImpl)(x, n); }
}  // namespace sieve::kernels
#endif  // HWY_ONCE
