// CountShardMemory: one process holds the whole checkpoint; split ranks hold the replicated tensors plus
// their share of the split ones (the vocabulary too: the tiny test vocabulary divides), so the ranks' bytes add up to the checkpoint plus (ranks - 1) copies of
// the replicated tensors, listed here independently of the code's own classification.
#include "model/shard_memory.h"

#include <gtest/gtest.h>

#include <string>

#include "model/step_cost.h"
#include "model/tensor_names.h"
#include "tests/unit/model/tiny_checkpoint.h"

namespace sieve::model {
namespace {

ShardMemory RankMemory(const ModelConfig& c, parallel::ParallelConfig flags, int world, int rank) {
  auto layout = parallel::ParallelLayout::Create(flags, world, rank);
  EXPECT_TRUE(layout.ok());
  auto shard = ModelShard::Create(c, *layout);
  EXPECT_TRUE(shard.ok());
  return CountShardMemory(c, *shard, /*with_mtp=*/false);
}

// Bytes of the tensors every rank holds whole (docs/parallelism.md, "What each rank loads").
double ReplicatedBytes(const ModelConfig& c) {
  double bytes = 0;
  const std::string mtp_begin = LayerPrefix(c.num_hidden_layers);
  for (const TensorSpec& t : ExpectedTensors(c)) {
    if (t.name.rfind(mtp_begin, 0) == 0) break;
    const auto has = [&](const char* part) { return t.name.find(part) != std::string::npos; };
    if (t.kind == TensorKind::kNormWeight || has("q_a_proj") || has("kv_a_proj_with_mqa") || has("indexer.wk.") ||
        has("mlp.gate.")) {
      bytes += StoredBytes(t, c);
    }
  }
  return bytes;
}

TEST(ShardMemory, OneProcessHoldsTheWholeCheckpoint) {
  const ModelConfig c = test_checkpoint::TinyConfig(4);  // 1 dense + 3 MoE layers, small vocabulary
  auto shard = ModelShard::Create(c, parallel::ParallelLayout());
  ASSERT_TRUE(shard.ok());
  const ShardMemory m = CountShardMemory(c, *shard, false);
  EXPECT_GT(m.total_bytes, 0);
  EXPECT_DOUBLE_EQ(m.rank_bytes, m.total_bytes);
  EXPECT_GT(CountShardMemory(c, *shard, true).total_bytes, m.total_bytes);  // the MTP layer on top
}

TEST(ShardMemory, RanksAddUpToTheCheckpointPlusReplicatedCopies) {
  const ModelConfig c = test_checkpoint::TinyConfig(4);  // 1 dense + 3 MoE layers, small vocabulary
  const double replicated = ReplicatedBytes(c);
  for (const auto& [flags, world] : {std::pair{parallel::ParallelConfig{.tensor_parallel_size = 2}, 2},
                                     std::pair{parallel::ParallelConfig{.tensor_parallel_size = 2, .enable_expert_parallel = true}, 2},
                                     std::pair{parallel::ParallelConfig{.tensor_parallel_size = 2, .data_parallel_size = 2,
                                                                        .enable_expert_parallel = true}, 4}}) {
    double sum = 0, total = 0;
    for (int r = 0; r < world; ++r) {
      const ShardMemory m = RankMemory(c, flags, world, r);
      sum += m.rank_bytes;
      total = m.total_bytes;
      EXPECT_LT(m.rank_bytes, m.total_bytes) << "rank " << r;
    }
    // With DP the attention weights are copied per replica, not split over the world.
    const int replicas = flags.data_parallel_size;
    const double attention_split = total - replicated;  // upper bound of what TP splits; DP copies it
    if (replicas == 1) {
      EXPECT_NEAR(sum, total + (world - 1) * replicated, 1e-6 * total) << world << " ranks";
    } else {
      EXPECT_GT(sum, total + (world - 1) * replicated);
      EXPECT_LT(sum, total + (world - 1) * replicated + (replicas - 1) * attention_split);
    }
  }
}

}  // namespace
}  // namespace sieve::model
