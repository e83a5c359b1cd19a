// Checkpoint loading: the shared tiny-dsv32-a fixture opens and validates.
#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include "tests/test_support.h"

namespace sieve::model {
namespace {

TEST(CheckpointFixture, TinyDsv32Validates) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; fixture test skipped";
  auto ckpt = Checkpoint::Open(*fx + "/checkpoint");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  const ModelConfig& c = (*ckpt)->config();
  EXPECT_EQ(c.model_type, "deepseek_v32");
  EXPECT_EQ(c.index_topk, 32);
  EXPECT_EQ((*ckpt)->NumTensors(), 536u);
  const LinearWeight kv_a = (*ckpt)->Linear("model.layers.0.self_attn.kv_a_proj_with_mqa");
  EXPECT_EQ(kv_a.rows(), 160);
  ASSERT_NE(kv_a.scale_inv, nullptr);
  EXPECT_EQ(kv_a.scale_inv->shape, (Shape{2, 2}));
}

}  // namespace
}  // namespace sieve::model
