// YarnRope against the numbers the fixture README derives from DeepSeek's reference: the mscale-corrected
// MLA softmax scale, the YaRN ramp (low 5, high 12 for d = 32, factor 40, original 4096) and both layouts.
#include "model/yarn_rope.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sieve::model {
namespace {

ModelConfig Dsv32Rope() {
  ModelConfig c;
  c.qk_rope_head_dim = 32;
  c.qk_nope_head_dim = 64;
  c.rope_theta = 10000;
  c.max_position_embeddings = 163840;
  c.rope_scaling = {.type = "yarn", .factor = 40, .original_max_position_embeddings = 4096, .beta_fast = 32,
                    .beta_slow = 1, .mscale = 1, .mscale_all_dim = 1};
  return c;
}

TEST(YarnRope, SoftmaxScaleIncludesMscaleSquared) {
  // (64 + 32)^-0.5 * (0.1 * ln 40 + 1)^2 = 0.19124944 (fixture README).
  EXPECT_NEAR(YarnRope(Dsv32Rope()).mla_softmax_scale(), 0.19124944f, 1e-7);
  ModelConfig plain = Dsv32Rope();
  plain.rope_scaling = {};
  EXPECT_NEAR(YarnRope(plain).mla_softmax_scale(), 1.0 / std::sqrt(96.0), 1e-7);
}

// Rotating the unit vector e_{2i} by position 1 yields (cos f_i, sin f_i), which exposes f_i.
double Frequency(const YarnRope& rope, int i) {
  std::vector<float> x(32, 0.0f);
  x[2 * i] = 1.0f;
  rope.RotateInterleaved(x.data(), 1);
  return std::atan2(x[2 * i + 1], x[2 * i]);
}

TEST(YarnRope, FrequenciesFollowTheYarnRamp) {
  const YarnRope rope(Dsv32Rope());
  for (int i = 0; i < 16; ++i) {
    const double f = std::pow(10000.0, -2.0 * i / 32);
    const double ramp = std::clamp((i - 5.0) / (12.0 - 5.0), 0.0, 1.0);  // low 5, high 12
    EXPECT_NEAR(Frequency(rope, i), f / 40 * ramp + f * (1 - ramp), 1e-6) << "pair " << i;
  }
}

TEST(YarnRope, HalvesLayoutPairsIWithIPlusHalf) {
  const YarnRope rope(Dsv32Rope());
  std::vector<float> x(32, 0.0f), y(32, 0.0f);
  x[3] = 1.0f;  // pairs with x[19] in the halves layout
  y[6] = 1.0f;  // pairs with y[7] in the interleaved layout
  rope.RotateHalves(x.data(), 7);
  rope.RotateInterleaved(y.data(), 7);
  EXPECT_FLOAT_EQ(x[3], y[6]);
  EXPECT_FLOAT_EQ(x[19], y[7]);
  EXPECT_NE(x[19], 0.0f);
  EXPECT_EQ(x[4], 0.0f);  // the interleaved partner is untouched
}

TEST(YarnRope, RotatingSeveralVectorsAtOnceGivesTheBitsOfSingleCalls) {
  const YarnRope rope(Dsv32Rope());
  // Three 32-wide vectors 45 floats apart (heads of one token), the gaps must stay untouched.
  std::vector<float> many(3 * 45), single;
  for (size_t i = 0; i < many.size(); ++i) many[i] = std::sin(0.37f * static_cast<float>(i));
  single = many;
  rope.RotateInterleaved(many.data(), 3, 45, 1234);
  for (int j = 0; j < 3; ++j) rope.RotateInterleaved(single.data() + j * 45, 1234);
  EXPECT_EQ(many, single);
  EXPECT_EQ(many[40], std::sin(0.37f * 40));
  rope.RotateHalves(many.data(), 3, 45, 77);
  for (int j = 0; j < 3; ++j) rope.RotateHalves(single.data() + j * 45, 77);
  EXPECT_EQ(many, single);
  EXPECT_EQ(many[40], std::sin(0.37f * 40));
}

}  // namespace
}  // namespace sieve::model
