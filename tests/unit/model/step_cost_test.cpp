// CountStepCost against hand counts for the tiny config (tiny-dsv32-a dimensions, vocab 2048): hidden 256,
// 4 layers (1 dense MLP of 512 + 3 MoE of 16 experts x 128, 4 active, 1 shared), 4 heads, q_lora 256,
// kv_lora 128, nope 64, rope 32, v 64, indexer 16 heads x 128, index_topk 32, FP8 128x128 blocks.
#include "model/step_cost.h"

#include <gtest/gtest.h>

#include "tests/unit/model/tiny_checkpoint.h"

namespace sieve::model {
namespace {

// FP8 linear [r, c]: r*c bytes + 4 bytes per 128x128 block.
constexpr double Fp8(double r, double c) { return r * c + 4 * ((int64_t(r) + 127) / 128) * ((int64_t(c) + 127) / 128); }

constexpr double kAttention = Fp8(256, 256) /*q_a*/ + Fp8(384, 256) /*q_b*/ + Fp8(160, 256) /*kv_a*/ +
                              Fp8(512, 128) /*kv_b*/ + Fp8(256, 256) /*o*/;
// The indexer's key side (always read) and query side (only when some token has more than index_topk = 32
// causal keys).
constexpr double kIndexKeys = Fp8(128, 256) /*wk*/ + 2 * 2 * 128 /*k_norm weight + bias*/;
constexpr double kIndexQuery = Fp8(2048, 256) /*wq_b*/ + 2 * 16 * 256 /*weights_proj BF16*/;
constexpr double kNorms = 2 * (256 + 256 + 256 + 128);  // input, post-attention, q_a, kv_a (BF16)
constexpr double kDenseMlp = 3 * Fp8(512, 256);
constexpr double kExpert = 3 * Fp8(128, 256);
constexpr double kRouter = 2 * 16 * 256 + 4 * 16;  // BF16 gate + F32 correction bias
constexpr double kLmHead = 2.0 * 2048 * 256, kFinalNorm = 2 * 256, kEmbedRow = 2 * 256;
constexpr double kCommon = 4 * (kAttention + kIndexKeys + kNorms) + kDenseMlp + 3 * (kRouter + kExpert) /*shared*/ +
                           kFinalNorm + kLmHead;

TEST(StepCost, Batch1DecodeMatchesHandCount) {
  const ModelConfig c = test_checkpoint::TinyConfig(4);
  const StepCost cost = CountStepCost(c, {.num_seqs = 1, .new_tokens = 1, .context_len = 1});
  EXPECT_DOUBLE_EQ(cost.weight_bytes, kCommon + 3 * 4 * kExpert + kEmbedRow);
  // One key per layer in fp32: latent 128 + rope 32.
  EXPECT_DOUBLE_EQ(cost.kv_bytes, 4 * (128 + 32) * 4.0);
  // Multiply-adds of every matrix (lm_head once), then MLA over the one key: expanding it (kv_b_proj once,
  // as absorbing the one query costs) then 4 heads x 2 x (64 + 32 + 64) beats absorbing at 2 x (2 x 128 + 32).
  const double macs = 4 * (256 * 256 + 384 * 256 + 160 * 256 + 512 * 128 + 256 * 256) + 4 * 128 * 256 + 3 * 512 * 256 +
                      3 * (16 * 256 + 4 * 3 * 128 * 256 + 3 * 128 * 256) + 2048 * 256;
  EXPECT_DOUBLE_EQ(cost.flops, 2 * macs + 4 * 4 * (2 * 64 + 2 * 32 + 2 * 64));
}

// One rank of --tp 2 (MoE-TP): heads, index heads, the dense MLP, every expert's intermediate, the shared
// expert and the vocabulary halved; the latent projections, norms, router and indexer key replicated; the
// KV cache read whole.
TEST(StepCost, RankShareOfTensorParallelTwo) {
  const ModelConfig c = test_checkpoint::TinyConfig(4);
  auto layout = parallel::ParallelLayout::Create({.tensor_parallel_size = 2}, 2, 1);
  ASSERT_TRUE(layout.ok());
  auto shard = ModelShard::Create(c, *layout);
  ASSERT_TRUE(shard.ok());
  const StepShape step{.num_seqs = 1, .new_tokens = 1, .context_len = 1};
  const StepCost whole = CountStepCost(c, step), rank = CountStepCost(c, step, &*shard);
  const double attention = Fp8(256, 256) + Fp8(160, 256) + 0.5 * (Fp8(384, 256) + Fp8(512, 128) + Fp8(256, 256));
  const double want = 4 * (attention + kIndexKeys + kNorms) + 0.5 * kDenseMlp + 3 * (kRouter + 0.5 * kExpert) +
                      kFinalNorm + 0.5 * kLmHead + 3 * 4 * 0.5 * kExpert + 0.5 * kEmbedRow;
  EXPECT_DOUBLE_EQ(rank.weight_bytes, want);
  EXPECT_DOUBLE_EQ(rank.kv_bytes, whole.kv_bytes);
  EXPECT_LT(rank.flops, 0.6 * whole.flops);
}

TEST(StepCost, Batch16ReadsAllExpertsOnceAndLmHeadOnce) {
  const ModelConfig c = test_checkpoint::TinyConfig(4);
  const StepCost one = CountStepCost(c, {.num_seqs = 1, .new_tokens = 1, .context_len = 1});
  const StepCost b16 = CountStepCost(c, {.num_seqs = 16, .new_tokens = 1, .context_len = 1});
  // 16 tokens x 4 experts cover all 16 experts: 12 more per MoE layer, plus 15 more embedding rows.
  EXPECT_DOUBLE_EQ(b16.weight_bytes - one.weight_bytes, 3 * 12 * kExpert + 15 * kEmbedRow);
  // Grouping by expert can only lower the count: 5 distinct experts is one more than batch 1.
  const StepCost grouped = CountStepCost(c, {.num_seqs = 16, .new_tokens = 1, .context_len = 1, .distinct_experts = 5});
  EXPECT_DOUBLE_EQ(grouped.weight_bytes - one.weight_bytes, 3 * kExpert + 15 * kEmbedRow);
}

TEST(StepCost, SparseAttentionCapsKeysAndPaysForTheIndexer) {
  const ModelConfig c = test_checkpoint::TinyConfig(4);
  const StepShape sparse{.num_seqs = 1, .new_tokens = 1, .context_len = 100, .kv_dtype = KvCacheDtype::kFP8};
  StepShape dense = sparse;
  dense.dense_attention = true;
  const StepCost s = CountStepCost(c, sparse), d = CountStepCost(c, dense);
  // fp8 entries: latent 128 + 4, rope 32 + 4, index key 128 + 4 bytes.
  EXPECT_DOUBLE_EQ(s.kv_bytes, 4 * (32 * 168.0 + 100 * 132.0));
  EXPECT_DOUBLE_EQ(d.kv_bytes, 4 * 100 * 168.0);
  // Selecting needs the indexer's query side: its weights, and per layer its 16 x 128 + 16 outputs.
  EXPECT_DOUBLE_EQ(s.weight_bytes - d.weight_bytes, 4 * kIndexQuery);
  // Attention FLOPs: 32 vs 100 keys x 2304 per key; the indexer adds 100 keys x 16 heads x 2 x 128.
  EXPECT_DOUBLE_EQ(d.flops - s.flops, 4 * (68 * 2304.0 - 100 * 4096.0) - 4 * 2 * (2048 * 256 + 16 * 256.0));
  EXPECT_DOUBLE_EQ(s.indexer_flops, 4 * 100 * 4096.0);
  EXPECT_DOUBLE_EQ(d.indexer_flops, 0.0);
  // At 32 keys nobody selects: the query side is not counted, as the model does not run it.
  const StepCost at_topk = CountStepCost(c, {.num_seqs = 1, .new_tokens = 1, .context_len = 32});
  const StepCost past_topk = CountStepCost(c, {.num_seqs = 1, .new_tokens = 1, .context_len = 33});
  EXPECT_DOUBLE_EQ(past_topk.weight_bytes - at_topk.weight_bytes, 4 * kIndexQuery);
}

TEST(StepCost, PrefillCountsEveryCausalKeyInTheExpandedForm) {
  const ModelConfig c = test_checkpoint::TinyConfig(4);
  const StepCost p = CountStepCost(c, {.num_seqs = 1, .new_tokens = 8, .context_len = 8});
  const StepCost d = CountStepCost(c, {.num_seqs = 1, .new_tokens = 1, .context_len = 1});
  // 8 tokens: 1 + 2 + ... + 8 = 36 keys per layer (all under index_topk), lm_head still once. Both steps
  // are expanded: kv_b_proj per key (4 heads x 2 x 128 x 128) + 4 heads x 2 x (64 + 32 + 64) per (query, key).
  const double lm_head_flops = 2.0 * 2048 * 256, kv_b = 4 * 32768.0, pair = 4 * 320.0;
  EXPECT_DOUBLE_EQ(p.flops - lm_head_flops, 8 * (d.flops - lm_head_flops - 4 * (kv_b + pair)) + 4 * (8 * kv_b + 36 * pair));
}

}  // namespace
}  // namespace sieve::model
