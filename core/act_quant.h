// The reference's per-vector FP8 activation quantisation with power-of-two scales (DeepSeek-V3.2-Exp
// inference/kernel.py: act_quant with scale_fmt "ue8m0", fast_round_scale): what the lightning indexer
// applies to its queries and keys before scoring them (model.py, Indexer.forward: q_fp8 / k_fp8).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace sieve {

// The UE8M0 scale of a vector whose largest magnitude is `amax`: 2^ceil(log2(max(amax, 1e-4) * (1/448))),
// the ceiling taken on the float's bits as fast_log2_ceil does (a power-of-two product stays put).
inline float Ue8m0Scale(float amax) {
  const float scaled = std::max(amax, 1e-4f) * (1.0f / 448.0f);
  uint32_t bits;
  std::memcpy(&bits, &scaled, sizeof bits);
  const uint32_t exponent = ((bits >> 23) & 0xffu) + ((bits & 0x7fffffu) != 0 ? 1u : 0u);  // biased
  const uint32_t scale_bits = exponent << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return scale;
}

// x [n] -> e4m3 codes [n] (round to nearest even of x / scale, saturated to +-448) and the returned scale:
// x ~= E4m3ToFloat(code) * scale. A NaN element becomes the NaN code; the others keep their scale.
inline float ActQuantE4m3(const float* x, int64_t n, uint8_t* codes) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::abs(x[i]));  // NaN is not > amax: skipped
  const float scale = Ue8m0Scale(amax);
  for (int64_t i = 0; i < n; ++i) codes[i] = FloatToE4m3(x[i] / scale);
  return scale;
}

}  // namespace sieve
