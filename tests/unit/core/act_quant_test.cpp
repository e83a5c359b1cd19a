// core/act_quant.h against the reference's act_quant (kernel.py, scale_fmt "ue8m0"): power-of-two scales
// that put the largest magnitude in (224, 448], an exact power staying put (the bit-level ceiling), the
// 1e-4 floor on amax, codes that round to nearest, and a NaN element that does not disturb the others.
#include "core/act_quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace sieve {
namespace {

TEST(ActQuant, ScaleIsTheNextPowerOfTwoOfAmaxOver448) {
  for (const float amax : {1.0f, 3.7f, 448.0f, 449.0f, 1e-3f, 12345.6f}) {
    const float scale = Ue8m0Scale(amax);
    int exponent = 0;
    EXPECT_EQ(std::frexp(scale, &exponent), 0.5f) << amax;  // a power of two
    EXPECT_GT(amax / scale, 224.0f) << amax;
    EXPECT_LE(amax / scale, 448.0f) << amax;
  }
  EXPECT_EQ(Ue8m0Scale(448.0f), 1.0f);  // amax / 448 already a power of two: not raised
  EXPECT_EQ(Ue8m0Scale(448.0f * 0x1p-10f), 0x1p-10f);
  EXPECT_EQ(Ue8m0Scale(0.0f), 0x1p-22f);  // max(amax, 1e-4) / 448 = 2.2e-7 -> 2^-22
}

TEST(ActQuant, CodesRoundEachValueToTheNearestScaledCode) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(128);
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> codes(x.size());
  const float scale = ActQuantE4m3(x.data(), static_cast<int64_t>(x.size()), codes.data());
  float amax = 0.0f;
  for (const float v : x) amax = std::max(amax, std::abs(v));
  EXPECT_EQ(scale, Ue8m0Scale(amax));
  for (size_t i = 0; i < x.size(); ++i) {
    const float back = E4m3ToFloat(codes[i]) * scale;
    // Round to nearest: no neighbouring code is closer (the codes of one sign are monotonic in value).
    for (const int step : {-1, 1}) {
      const int neighbour = static_cast<int>(codes[i] & 0x7f) + step;
      if (neighbour < 0 || neighbour > 0x7e) continue;
      const float other = E4m3ToFloat(static_cast<uint8_t>((codes[i] & 0x80) | neighbour)) * scale;
      EXPECT_LE(std::abs(back - x[i]), std::abs(other - x[i])) << i;
    }
  }
}

TEST(ActQuant, NanElementGetsTheNanCodeAndLeavesTheScale) {
  std::vector<float> x = {1.0f, -2.0f, std::numeric_limits<float>::quiet_NaN(), 0.5f};
  std::vector<uint8_t> codes(x.size());
  const float scale = ActQuantE4m3(x.data(), 4, codes.data());
  EXPECT_EQ(scale, Ue8m0Scale(2.0f));
  EXPECT_EQ(codes[2] & 0x7f, 0x7f);
  EXPECT_EQ(E4m3ToFloat(codes[1]) * scale, -2.0f);
}

}  // namespace
}  // namespace sieve
