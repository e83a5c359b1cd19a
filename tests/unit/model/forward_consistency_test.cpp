// Properties of the forward pass that hold whatever the weights: batching, chunking, decoding through the
// cache and the thread count do not change the numbers; sparse attention equals dense attention while the
// context fits in index_topk; a V3-layout (no indexer) checkpoint and a BF16 checkpoint run; bad batches
// are rejected with a Status.
#include <gtest/gtest.h>

#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"
#include "tests/test_support.h"
#include "tests/unit/model/forward_test_support.h"

namespace sieve::model {
namespace {

using namespace test_support;

// Different association of the same fp32 sums (absorbed attention over a different number of keys per
// step) moves logits by ~1e-5 (README: decode vs prefill path 2.8e-5); 1e-4 still catches any real bug.
constexpr double kSameMathAbs = 1e-4;

class ForwardConsistency : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fx = test::SharedFixture("tiny-dsv32-a");
    if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; test skipped";
    auto ckpt = Checkpoint::Open(*fx + "/checkpoint");
    ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
    ckpt_ = std::move(ckpt).value();
    GoldenFile prompts(*fx + "/golden/prompts.safetensors");
    for (int i = 0; i < 3; ++i) prompts_.push_back(prompts.Ints("prompt_" + std::to_string(i)));
  }
  std::unique_ptr<Model> Load(ModelOptions options = {}) {
    if (options.num_threads == 0) options.num_threads = 2;
    auto m = Model::Load(ckpt_, options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }
  std::shared_ptr<const Checkpoint> ckpt_;
  std::vector<std::vector<int32_t>> prompts_;
};

TEST_F(ForwardConsistency, BatchedPrefillOfDifferentLengthsEqualsSingleRuns) {
  auto m = Load();
  auto cache = MakeCache(*m, 3);
  ForwardBatch batch;
  for (int i = 0; i < 3; ++i) batch.seqs.push_back(Chunk(i, prompts_[i], 0, SequenceChunk::Logits::kAll));
  ForwardOutput out;
  ASSERT_TRUE(m->Forward(batch, *cache, &out).ok());
  const int64_t vocab = m->config().vocab_size;
  for (int i = 0; i < 3; ++i) {
    const Tensor single = PrefillLogits(*m, prompts_[i]);
    ASSERT_EQ(out.row_begin[i + 1] - out.row_begin[i], single.shape[0]);
    const double diff = MaxAbsDiff(out.logits.ptr() + out.row_begin[i] * vocab, single.ptr(), single.numel());
    EXPECT_LE(diff, 1e-6) << "prompt " << i;
  }
  // Negative control: the same comparison between different prompts fails.
  EXPECT_GT(MaxAbsDiff(out.logits.ptr(), out.logits.ptr() + out.row_begin[1] * vocab, 7 * vocab), 1e-2);
}

// Chunked prefill and decode read earlier tokens back from the paged cache; the logits must equal one
// full prefill. Prompt 2 (100 tokens) has sparse selection from position 32 on.
TEST_F(ForwardConsistency, ChunkedPrefillAndDecodeEqualFullRecompute) {
  auto m = Load();
  const std::vector<int32_t>& p = prompts_[2];
  const Tensor full = PrefillLogits(*m, p);
  const int64_t vocab = m->config().vocab_size;
  auto cache = MakeCache(*m, 2);
  // Sequence 1 shares the steps with other work, so chunks of two sequences are mixed in one batch.
  const int64_t cuts[] = {0, 20, 45, 97, 98, 99, 100};
  double worst = 0;
  for (size_t k = 0; k + 1 < std::size(cuts); ++k) {
    ForwardBatch batch;
    batch.seqs.push_back(Chunk(0, Slice(prompts_[0], 0, 3), 0, SequenceChunk::Logits::kNone));
    batch.seqs.push_back(Chunk(1, Slice(p, cuts[k], cuts[k + 1]), cuts[k], SequenceChunk::Logits::kAll));
    ForwardOutput out;
    ASSERT_TRUE(m->Forward(batch, *cache, &out).ok());
    ASSERT_EQ(out.row_begin, (std::vector<int64_t>{0, 0, cuts[k + 1] - cuts[k]}));
    worst = std::max(worst, MaxAbsDiff(out.logits.ptr(), full.ptr() + cuts[k] * vocab, out.logits.numel()));
  }
  EXPECT_LE(worst, kSameMathAbs);
  std::printf("chunked prefill + decode vs full prefill: max abs diff %.3g\n", worst);
}

TEST_F(ForwardConsistency, ContextShorterThanTopkEqualsDenseAttention) {
  auto sparse = Load();
  auto dense = Load({.dense_attention = true});
  const Tensor a = PrefillLogits(*sparse, prompts_[1]);  // 40 tokens, index_topk 32
  const Tensor b = PrefillLogits(*dense, prompts_[1]);
  const int64_t vocab = sparse->config().vocab_size, topk = sparse->config().index_topk;
  EXPECT_EQ(MaxAbsDiff(a.ptr(), b.ptr(), topk * vocab), 0.0);  // positions 0..31 attend to every causal token
  // Beyond index_topk the indexer drops tokens, so the two differ (negative control).
  EXPECT_GT(MaxAbsDiff(a.ptr() + topk * vocab, b.ptr() + topk * vocab, (40 - topk) * vocab), 1e-2);
}

TEST_F(ForwardConsistency, ThreadCountDoesNotChangeResults) {
  auto one = Load({.num_threads = 1});
  auto three = Load({.num_threads = 3});
  const Tensor a = PrefillLogits(*one, prompts_[2]);
  const Tensor b = PrefillLogits(*three, prompts_[2]);
  EXPECT_EQ(a.data, b.data);
}

TEST_F(ForwardConsistency, InvalidBatchesAreRejected) {
  auto m = Load();
  auto cache = MakeCache(*m, 1);
  ForwardOutput out;
  ForwardBatch bad_token;
  bad_token.seqs.push_back(Chunk(0, {0, 2048}, 0, SequenceChunk::Logits::kLast));
  EXPECT_EQ(m->Forward(bad_token, *cache, &out).code(), StatusCode::kInvalidArgument);
  ForwardBatch short_table;
  short_table.seqs.push_back(Chunk(0, {0, 5}, 159, SequenceChunk::Logits::kLast));  // needs an 11th block
  EXPECT_EQ(m->Forward(short_table, *cache, &out).code(), StatusCode::kInvalidArgument);
  ForwardBatch empty_chunk;
  empty_chunk.seqs.push_back(Chunk(0, {}, 0, SequenceChunk::Logits::kLast));
  EXPECT_EQ(m->Forward(empty_chunk, *cache, &out).code(), StatusCode::kInvalidArgument);
  PagedKvCache too_few_layers(m->config(), 1, 10, kBlockSize, KvCacheDtype::kF32);
  ForwardBatch ok;
  ok.seqs.push_back(Chunk(0, {0, 5}, 0, SequenceChunk::Logits::kLast));
  EXPECT_EQ(m->Forward(ok, too_few_layers, &out).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(m->ForwardMtp(ok, Tensor({2, 256}), *cache, &out).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(m->Forward(ok, *cache, &out).ok());
}

// A random checkpoint in the DeepSeek-V3 layout (no index_* keys: dense MLA), as FP8 and as BF16.
class V3Layout : public ::testing::TestWithParam<bool> {};

TEST_P(V3Layout, RunsAndDecodesConsistently) {
  const bool bf16 = GetParam();
  auto preset = FindCheckpointPreset("tiny");
  ASSERT_TRUE(preset.ok());
  ModelConfig c = preset->config;
  c.model_type = "deepseek_v3";
  c.architecture = "DeepseekV3ForCausalLM";
  c.index_n_heads = c.index_head_dim = c.index_topk = 0;
  c.vocab_size = 512;
  c.num_nextn_predict_layers = 0;
  ASSERT_TRUE(SetNumLayers(2, &c).ok());
  if (bf16) MakeBf16Only(&c);
  test::TempDir tmp;
  CheckpointWriterOptions w;
  w.out_dir = tmp.path() + "/ckpt";
  w.seed = 42;
  w.num_threads = 1;
  ASSERT_TRUE(WriteRandomCheckpoint(c, w).ok());
  auto ckpt = Checkpoint::Open(w.out_dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  ASSERT_FALSE((*ckpt)->config().has_indexer());
  auto m = Model::Load(std::move(ckpt).value(), {.num_threads = 2});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < 12; ++i) ids.push_back((i * 37 + 5) % 512);
  const Tensor full = PrefillLogits(**m, ids);
  ASSERT_EQ(full.shape, (Shape{12, 512}));
  for (float v : full.data) ASSERT_TRUE(std::isfinite(v));
  // Decoding the last token through the cache equals the full prefill's last row.
  auto cache = MakeCache(**m, 1);
  ForwardBatch batch;
  batch.seqs.push_back(Chunk(0, Slice(ids, 0, 11), 0, SequenceChunk::Logits::kNone));
  ForwardOutput out;
  ASSERT_TRUE((*m)->Forward(batch, *cache, &out).ok());
  batch.seqs[0] = Chunk(0, {ids[11]}, 11, SequenceChunk::Logits::kLast);
  ASSERT_TRUE((*m)->Forward(batch, *cache, &out).ok());
  EXPECT_LE(MaxAbsDiff(out.logits.ptr(), full.ptr() + 11 * 512, 512), kSameMathAbs);
  EXPECT_GT(MaxAbsDiff(out.logits.ptr(), full.ptr() + 10 * 512, 512), 1e-2);  // negative control
}

INSTANTIATE_TEST_SUITE_P(Weights, V3Layout, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Bf16" : "Fp8"; });

}  // namespace
}  // namespace sieve::model
