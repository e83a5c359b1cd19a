// Element types that appear in DeepSeek checkpoints (safetensors dtype strings) and the scalar
// conversions between them. Bulk conversions live in kernels/; these are the exact reference forms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace sieve {

enum class DType { kF8E4M3, kBF16, kF16, kF32, kF64, kI8, kU8, kI16, kI32, kI64, kBool };

// Bytes per element; inline: WeightMatrix::RowBytes asks it for every row a kernel reads.
constexpr size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF8E4M3: case DType::kI8: case DType::kU8: case DType::kBool: return 1;
    case DType::kBF16: case DType::kF16: case DType::kI16: return 2;
    case DType::kF32: case DType::kI32: return 4;
    case DType::kF64: case DType::kI64: return 8;
  }
  return 0;
}
// The safetensors spelling: "F8_E4M3", "BF16", "F32", ...
std::string_view DTypeName(DType dtype);
std::optional<DType> ParseDType(std::string_view name);

// bfloat16: the top 16 bits of an IEEE float32.
inline float Bf16ToFloat(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Round-to-nearest-even, as torch's .to(torch.bfloat16); NaN stays NaN.
inline uint16_t FloatToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  const uint32_t rounding_bias = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding_bias) >> 16);
}

float F16ToFloat(uint16_t bits);

// FP8 e4m3 "fn" (OCP FP8, as torch.float8_e4m3fn): 1 sign, 4 exponent (bias 7), 3 mantissa bits;
// no infinities, 0x7f/0xff are NaN, largest finite 448.
float E4m3ToFloat(uint8_t bits);
// Round-to-nearest-even and saturate to +-448 (the checkpoint quantiser's behaviour); NaN -> 0x7f.
inline uint8_t FloatToE4m3(float f) {
  // Bit-level rounding instead of a table search: make-checkpoint quantises ~1e9 weights per GB, and this
  // is exact (tests/unit/core/dtype_test.cpp compares it with a brute-force nearest-code search).
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint8_t sign = static_cast<uint8_t>((u >> 24) & 0x80);
  const uint32_t abs_bits = u & 0x7fffffffu;
  if (abs_bits > 0x7f800000u) return 0x7f;             // NaN
  if (abs_bits >= 0x43e00000u) return sign | 0x7e;     // >= 448 (and inf): saturate to 448
  if (abs_bits < 0x3c800000u) {                        // below 2^-6: subnormal codes m * 2^-9, m = 0..7
    float a;
    std::memcpy(&a, &abs_bits, sizeof a);
    // Adding and subtracting 2^23 rounds a*512 (exact, < 8) to an integer, ties to even; 8 is the
    // code of 2^-6, the smallest normal, so the carry needs no special case.
    const float m = (a * 512.0f + 8388608.0f) - 8388608.0f;
    return sign | static_cast<uint8_t>(m);
  }
  // Normal: keep 3 of float's 23 mantissa bits with round-to-nearest-even; a carry out of the mantissa
  // increments the exponent, which is again the right code. Exponent bias 127 -> 7.
  const uint32_t rounded = (abs_bits + 0x7ffffu + ((abs_bits >> 20) & 1u)) >> 20;
  return sign | static_cast<uint8_t>(rounded - (120u << 3));
}


}  // namespace sieve
