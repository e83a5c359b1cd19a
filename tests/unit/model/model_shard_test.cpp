// ModelShard: each rank's ranges of the split dimensions for the tiny preset (the fixture's shapes), the
// one-line refusal of a split that does not divide, and Model::Load's check of the groups it is given.
#include "model/model_shard.h"

#include <gtest/gtest.h>

#include "model/checkpoint_presets.h"

namespace sieve::model {
namespace {

ModelConfig TinyConfig() {
  auto preset = FindCheckpointPreset("tiny");
  EXPECT_TRUE(preset.ok());
  return preset->config;
}

parallel::ParallelLayout Layout(parallel::ParallelConfig config, int world, int rank) {
  auto l = parallel::ParallelLayout::Create(config, world, rank);
  EXPECT_TRUE(l.ok()) << l.status().message();
  return *l;
}

void ExpectRange(parallel::ShardRange got, int64_t begin, int64_t count, const char* what) {
  EXPECT_EQ(got.begin, begin) << what;
  EXPECT_EQ(got.count, count) << what;
}

TEST(ModelShard, OneProcessHoldsEverything) {
  const ModelConfig c = TinyConfig();
  auto s = ModelShard::Create(c, parallel::ParallelLayout());
  ASSERT_TRUE(s.ok());
  ExpectRange(s->heads, 0, c.num_attention_heads, "heads");
  ExpectRange(s->experts, 0, c.n_routed_experts, "experts");
  ExpectRange(s->expert_intermediate, 0, c.moe_intermediate_size, "expert intermediate");
}

TEST(ModelShard, TensorParallelSplitsHeadsAndEveryExpertsIntermediate) {
  auto s = ModelShard::Create(TinyConfig(), Layout({.tensor_parallel_size = 2}, 2, 1));
  ASSERT_TRUE(s.ok());
  ExpectRange(s->heads, 2, 2, "heads");
  ExpectRange(s->index_heads, 8, 8, "index heads");
  ExpectRange(s->dense_intermediate, 256, 256, "dense intermediate");
  ExpectRange(s->shared_intermediate, 64, 64, "shared intermediate (cuts a 128 block: exact, not refused)");
  ExpectRange(s->experts, 0, 16, "experts");
  ExpectRange(s->expert_intermediate, 64, 64, "expert intermediate");
}

TEST(ModelShard, ExpertParallelGivesWholeExpertsOverTheWorld) {
  // vLLM TP=2 x DP=2 with EP: world rank 3 is dp 1, attention-tp 1, experts 12..15.
  auto s = ModelShard::Create(
      TinyConfig(), Layout({.tensor_parallel_size = 2, .data_parallel_size = 2, .enable_expert_parallel = true}, 4, 3));
  ASSERT_TRUE(s.ok());
  ExpectRange(s->heads, 2, 2, "heads");
  ExpectRange(s->experts, 12, 4, "experts");
  ExpectRange(s->expert_intermediate, 0, 128, "expert intermediate");
}

TEST(ModelShard, ASplitThatDoesNotDivideNamesTheDimension) {
  auto s = ModelShard::Create(TinyConfig(), Layout({.tensor_parallel_size = 3}, 3, 0));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "attention heads = 4 is not divisible by 3 ranks");
}

}  // namespace
}  // namespace sieve::model
