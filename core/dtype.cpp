// DType names and the scalar FP8 / FP16 conversions.
#include "core/dtype.h"

#include <array>
#include <cmath>

namespace sieve {

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

}  // namespace sieve
