// DecodeE4m3 (see e4m3_decode.h), compiled once per Highway target and dispatched at runtime.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/e4m3_decode.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <cmath>

#include "core/dtype.h"
#include "kernels/cpu/decode_lanes-inl.h"
#include "kernels/e4m3_decode.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void DecodeE4m3Impl(const uint8_t* codes, int64_t n, float scale, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  // E4m3Lanes folds 2^120 into the scale: the same single rounding of code * scale while scale * 2^120 is
  // finite and no code is NaN; otherwise the scalar decode.
  const float folded = scale * kE4m3Unbias;
  if (std::isfinite(folded) && !HasE4m3Nan(codes, n)) {
    const auto folded_lanes = hn::Set(df, folded);
    for (; i + lanes <= n; i += lanes) hn::StoreU(E4m3Lanes(df, codes + i, folded_lanes), df, out + i);
  }
  for (; i < n; ++i) out[i] = E4m3ToFloat(codes[i]) * scale;
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(DecodeE4m3Impl);

void DecodeE4m3(const uint8_t* codes, int64_t n, float scale, float* out) {
  HWY_DYNAMIC_DISPATCH(DecodeE4m3Impl)(codes, n, scale, out);
}
}  // namespace sieve::kernels
#endif
