// DType names and the scalar FP8 / FP16 conversions.
#include "core/dtype.h"

#include <array>
#include <cmath>

namespace sieve {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF8E4M3: case DType::kI8: case DType::kU8: case DType::kBool: return 1;
    case DType::kBF16: case DType::kF16: case DType::kI16: return 2;
    case DType::kF32: case DType::kI32: return 4;
    case DType::kF64: case DType::kI64: return 8;
  }
  return 0;
}

namespace {
struct DTypeEntry {
  DType dtype;
  std::string_view name;
};
constexpr std::array<DTypeEntry, 11> kDTypes = {{
    {DType::kF8E4M3, "F8_E4M3"}, {DType::kBF16, "BF16"}, {DType::kF16, "F16"}, {DType::kF32, "F32"},
    {DType::kF64, "F64"},        {DType::kI8, "I8"},     {DType::kU8, "U8"},   {DType::kI16, "I16"},
    {DType::kI32, "I32"},        {DType::kI64, "I64"},   {DType::kBool, "BOOL"},
}};

std::array<float, 256> MakeE4m3Table() {
  std::array<float, 256> table{};
  for (int b = 0; b < 256; ++b) {
    const int sign = b >> 7, exponent = (b >> 3) & 0xf, mantissa = b & 7;
    float v;
    if (exponent == 0xf && mantissa == 7) {
      v = std::nanf("");
    } else if (exponent == 0) {
      v = std::ldexp(static_cast<float>(mantissa), -9);  // subnormal: m/8 * 2^-6
    } else {
      v = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
    }
    table[b] = sign ? -v : v;
  }
  return table;
}
const std::array<float, 256> kE4m3Table = MakeE4m3Table();
}  // namespace

std::string_view DTypeName(DType dtype) {
  for (const auto& e : kDTypes)
    if (e.dtype == dtype) return e.name;
  return "?";
}

std::optional<DType> ParseDType(std::string_view name) {
  for (const auto& e : kDTypes)
    if (e.name == name) return e.dtype;
  return std::nullopt;
}

float F16ToFloat(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float v;
  if (exponent == 0) {
    v = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 0x1f) {
    v = mantissa ? std::nanf("") : INFINITY;
  } else {
    v = std::ldexp(1.0f + static_cast<float>(mantissa) / 1024.0f, exponent - 15);
  }
  return sign ? -v : v;
}

float E4m3ToFloat(uint8_t bits) { return kE4m3Table[bits]; }

uint8_t FloatToE4m3(float f) {
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
