// Decoding KV / weight elements in registers: one vector of e4m3 (times a scale) or bf16 values loaded from
// memory as fp32 lanes. Shared by the decode GEMV (kernels/cpu/fused_dot-inl.h) and the lightning indexer's
// scores (kernels/index_score.cpp); included inside their per-target namespaces (Highway's -inl.h pattern).
#if defined(SIEVE_KERNELS_CPU_DECODE_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIEVE_KERNELS_CPU_DECODE_LANES_INL_H_
#undef SIEVE_KERNELS_CPU_DECODE_LANES_INL_H_
#else
#define SIEVE_KERNELS_CPU_DECODE_LANES_INL_H_
#endif

#include <hwy/highway.h>

#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// 2^120: the 7 magnitude bits of an e4m3 code placed at float bit 20 read as e4m3 * 2^-120, for normal
// and subnormal codes alike (the 4-bit exponent lands in the float's exponent field, the 3-bit mantissa
// at its top).
constexpr float kE4m3Unbias = 0x1p120f;

// Whether n e4m3 codes hold the NaN code (0x7f / 0xff), which E4m3Lanes does not decode: one max over
// the masked bytes per full byte vector (a quarter of an op per decoded float lane on AVX-512) instead of
// a compare and a select per decoded vector.
HWY_INLINE bool HasE4m3Nan(const uint8_t* p, int64_t n) {
  const hn::ScalableTag<uint8_t> d8;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d8));
  const auto magnitude = hn::Set(d8, 0x7f);
  auto worst = hn::Zero(d8);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) worst = hn::Max(worst, hn::And(hn::LoadU(d8, p + i), magnitude));
  bool nan = !hn::AllFalse(d8, hn::Eq(worst, magnitude));
  for (; i < n; ++i) nan |= (p[i] & 0x7f) == 0x7f;
  return nan;
}

// e4m3 codes p[0, lanes) as e4m3 * 2^-120 (exact, subnormal floats for the smallest codes), no NaN
// codes: sign-extending the byte puts its sign bit in bits 7..31; shifted left by 20 the magnitude sits at
// bits 20..26 and the sign at 31, and one AND clears the sign copies in bits 27..30. Three integer ops,
// against five for masking and shifting sign and magnitude separately.
template <class D>
HWY_INLINE hn::Vec<D> E4m3CodeLanes(D df, const uint8_t* p) {
  const hn::RebindToSigned<D> di;
  const hn::RebindToUnsigned<D> du;
  const hn::Rebind<int8_t, D> d8;
  const auto wide = hn::BitCast(du, hn::PromoteTo(di, hn::LoadU(d8, reinterpret_cast<const int8_t*>(p))));
  return hn::BitCast(df, hn::And(hn::ShiftLeft<20>(wide), hn::Set(du, 0x87F00000u)));
}

// e4m3 codes p[0, lanes) times `scale` (a block scale times 2^120), no NaN codes: one rounding of the
// exact product code * block scale.
template <class D>
HWY_INLINE hn::Vec<D> E4m3Lanes(D df, const uint8_t* p, hn::Vec<D> scale) {
  return hn::Mul(E4m3CodeLanes(df, p), scale);
}

template <class D>
HWY_INLINE hn::Vec<D> Bf16Lanes(D df, const uint16_t* p) {
  const hn::RebindToUnsigned<D> du;
  const hn::Rebind<uint16_t, D> d16;
  return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, p))));
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // include guard
