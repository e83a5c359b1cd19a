// Scalar dtype conversions: FP8 e4m3 ("fn") encode/decode edge cases, each row with its reason, an exhaustive
// comparison of the bit-level encoder with a brute-force nearest-code search, and bf16 rounding.
#include "core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace sieve {
namespace {

struct E4m3Case {
  float input;
  uint8_t code;
  const char* reason;
};

const E4m3Case kE4m3Cases[] = {
    {0.0f, 0x00, "zero"},
    {-0.0f, 0x80, "negative zero keeps its sign bit"},
    {1.0f, 0x38, "exponent bias 7: 1.0 = 2^(7-7), mantissa 0"},
    {-3.0f, 0xc4, "sign bit, 1.5 * 2^1"},
    {1.0625f, 0x38, "halfway between 1 (mantissa 0) and 1.125 (1): ties go to the even mantissa"},
    {1.0625f + 1e-6f, 0x39, "just above halfway rounds up"},
    {1.1875f, 0x3a, "halfway between 1.125 (mantissa 1) and 1.25 (2): ties to even rounds up here"},
    {240.0f, 0x77, "1.875 * 2^7: the largest mantissa of exponent 14"},
    {248.0f, 0x78, "halfway between 240 (mantissa 7) and 256: the round-up carries into the exponent"},
    {432.0f, 0x7e, "halfway between 416 (mantissa 5) and 448 (6): ties to even gives 448"},
    {447.99f, 0x7e, "just below the maximum rounds to it"},
    {448.0f, 0x7e, "largest finite e4m3fn value"},
    {464.0f, 0x7e, "halfway to 480, which would be the NaN code: saturates to 448"},
    {1000.0f, 0x7e, "beyond the range saturates (the checkpoint quantiser clamps to +-448)"},
    {-1e30f, 0xfe, "negative overflow saturates to -448"},
    {std::numeric_limits<float>::infinity(), 0x7e, "e4m3fn has no infinity: saturates"},
    {-std::numeric_limits<float>::infinity(), 0xfe, "negative infinity saturates to -448"},
    {std::numeric_limits<float>::quiet_NaN(), 0x7f, "NaN maps to the NaN code"},
    {0.015625f, 0x08, "2^-6: smallest normal"},
    {0.015625f * 1.0625f, 0x08, "halfway between 2^-6 and its successor: ties to even"},
    {0.001953125f, 0x01, "2^-9: smallest subnormal"},
    {0.0009765625f, 0x00, "half the smallest subnormal: ties to even gives zero"},
    {0.00146484375f, 0x01, "0.75 of the smallest subnormal rounds up"},
    {0.0029296875f, 0x02, "1.5 subnormal steps: ties to even gives 2 steps"},
    {0.0146484375f, 0x08, "7.5 subnormal steps, between 7 * 2^-9 and 2^-6: rounds to even into the normals"},
    {1e-10f, 0x00, "far below the subnormals underflows to zero"},
    {-1e-10f, 0x80, "negative underflow keeps the sign"},
};

TEST(E4m3, EncodeEdgeCases) {
  for (const E4m3Case& c : kE4m3Cases)
    EXPECT_EQ(FloatToE4m3(c.input), c.code) << "input " << c.input << ": " << c.reason;
}

TEST(E4m3, DecodeEdgeCases) {
  EXPECT_EQ(E4m3ToFloat(0x7e), 448.0f);                 // largest finite
  EXPECT_EQ(E4m3ToFloat(0xfe), -448.0f);
  EXPECT_EQ(E4m3ToFloat(0x01), std::ldexp(1.0f, -9));   // smallest subnormal
  EXPECT_EQ(E4m3ToFloat(0x08), std::ldexp(1.0f, -6));   // smallest normal
  EXPECT_EQ(E4m3ToFloat(0x38), 1.0f);
  EXPECT_TRUE(std::isnan(E4m3ToFloat(0x7f)));           // the only NaNs of e4m3fn
  EXPECT_TRUE(std::isnan(E4m3ToFloat(0xff)));
  EXPECT_TRUE(std::signbit(E4m3ToFloat(0x80)));         // negative zero
}

TEST(E4m3, EveryFiniteCodeRoundTrips) {
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7f) == 0x7f) continue;  // NaN
    EXPECT_EQ(FloatToE4m3(E4m3ToFloat(static_cast<uint8_t>(code))), code) << "code " << code;
  }
}

// The reference: the nearest of all finite codes by absolute difference, ties to the even code,
// saturating at +-448. Slow and obviously right.
uint8_t NearestE4m3(float f, bool ties_to_even = true) {
  if (std::isnan(f)) return 0x7f;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 448.0) return sign | 0x7e;
  int best = 0;
  double best_diff = INFINITY;
  for (int code = 0; code <= 0x7e; ++code) {
    const double diff = std::fabs(a - E4m3ToFloat(static_cast<uint8_t>(code)));
    const bool tie = diff == best_diff;
    if (diff < best_diff || (tie && (ties_to_even ? (code & 1) == 0 : true))) {
      best = code;
      best_diff = diff;
    }
  }
  return sign | static_cast<uint8_t>(best);
}

// Every midpoint between adjacent codes, one float either side of it, and random values over the range.
std::vector<float> SweepInputs() {
  std::vector<float> xs;
  for (int code = 0; code < 0x7e; ++code) {
    const float lo = E4m3ToFloat(static_cast<uint8_t>(code)), hi = E4m3ToFloat(static_cast<uint8_t>(code + 1));
    const float mid = 0.5f * (lo + hi);  // exact: e4m3 values have few mantissa bits
    for (float x : {lo, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)}) {
      xs.push_back(x);
      xs.push_back(-x);
    }
  }
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> log2_mag(-12.0f, 9.5f);
  for (int i = 0; i < 20000; ++i) xs.push_back((i % 2 ? -1.0f : 1.0f) * std::exp2(log2_mag(rng)));
  return xs;
}

TEST(E4m3, EncoderMatchesBruteForceNearest) {
  int mismatches = 0;
  for (float x : SweepInputs())
    if (FloatToE4m3(x) != NearestE4m3(x)) ++mismatches;
  EXPECT_EQ(mismatches, 0);
}

TEST(E4m3, SweepHitsTies) {  // negative control: the sweep tells ties-to-even from ties-away
  int differ = 0;
  for (float x : SweepInputs())
    if (NearestE4m3(x, /*ties_to_even=*/false) != NearestE4m3(x)) ++differ;
  EXPECT_GT(differ, 100);
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);      // halfway, even mantissa kept
  EXPECT_EQ(FloatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);  // halfway, odd mantissa rounds up
  EXPECT_EQ(FloatToBf16(-2.0f), 0xc000);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(Bf16ToFloat(0x3f80), 1.0f);
}

TEST(DType, NamesRoundTrip) {
  for (DType d : {DType::kF8E4M3, DType::kBF16, DType::kF16, DType::kF32, DType::kI32, DType::kI64}) {
    const auto parsed = ParseDType(DTypeName(d));
    ASSERT_TRUE(parsed.has_value()) << DTypeName(d);
    EXPECT_EQ(*parsed, d);
  }
  EXPECT_EQ(DTypeSize(DType::kI32), 4u);
  EXPECT_EQ(DTypeSize(DType::kI64), 8u);
  EXPECT_FALSE(ParseDType("F8_E5M2").has_value());  // not used by DeepSeek checkpoints
}

}  // namespace
}  // namespace sieve
