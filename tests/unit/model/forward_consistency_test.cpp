// Properties of the forward pass that hold whatever the weights: batching, chunking and decoding through the
// cache change the numbers by fp32 rounding only, the thread count not at all; sparse attention equals
// dense attention while the context fits in index_topk; a V3-layout (no indexer) checkpoint and a BF16
// checkpoint run; bad batches are rejected with a Status.
#include <gtest/gtest.h>

#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"
#include "tests/test_support.h"
#include "tests/unit/model/forward_test_support.h"

namespace sieve::model {
namespace {

using namespace test_support;

// Every token row is computed with the same math whatever else is in the batch (per-token attention,
// experts summed in id order), but not always with the same summation order: a projection with fewer than
// kernels::kMinGemmTokens token rows runs the dot kernels (bit-identical to each other for any batch), one
// with more runs the GEMM on decoded weight panels (kernels/gemm_matmul.h), which sums in another order;
// and a sequence's attention runs in the absorbed or the expanded form of MLA
// (model/mla_form.h), whichever costs fewer FLOPs for its step (a prefill expands, a decode absorbs). So
// batching, chunking, decoding through the cache, and anything that changes how many tokens an expert
// gets, change a token's logits by fp32 rounding only: measured <= 1.3e-5 max abs on
// these prompts (logits of std ~1.5). kKernelOrder leaves 8x headroom, stays 5x below the golden tolerance
// (5e-4) and 100x below every negative control (> 1e-2); the thread count still changes nothing.
constexpr double kKernelOrder = 1e-4;

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
    EXPECT_LE(diff, kKernelOrder) << "prompt " << i;
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
  EXPECT_LE(worst, kKernelOrder);
  std::printf("chunked prefill + decode vs full prefill: max abs diff %.3g\n", worst);
}

TEST_F(ForwardConsistency, ContextShorterThanTopkEqualsDenseAttention) {
  auto sparse = Load();
  auto dense = Load({.dense_attention = true});
  const Tensor a = PrefillLogits(*sparse, prompts_[1]);  // 40 tokens, index_topk 32
  const Tensor b = PrefillLogits(*dense, prompts_[1]);
  const int64_t vocab = sparse->config().vocab_size, topk = sparse->config().index_topk;
  // Positions 0..31 attend to every causal token in both. Later tokens route to other experts in the two
  // modes, so expert groups differ in size and may use the other matmul kernel: equal up to kKernelOrder.
  EXPECT_LE(MaxAbsDiff(a.ptr(), b.ptr(), topk * vocab), kKernelOrder);
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

// Reduced-precision caches only round the cached latent, rope key and index key: logits stay close to the
// fp32 cache's (relative rms of the difference), and the bound still catches a cache that returns wrong
// entries (negative control: the logits of a different prompt).
TEST_F(ForwardConsistency, Bf16AndFp8CachesStayCloseToFp32) {
  auto m = Load();
  auto run = [&](KvCacheDtype dtype, const std::vector<int32_t>& ids) {
    auto cache = MakeCache(*m, 1, dtype);
    ForwardBatch batch;
    batch.seqs.push_back(Chunk(0, ids, 0, SequenceChunk::Logits::kAll));
    ForwardOutput out;
    EXPECT_TRUE(m->Forward(batch, *cache, &out).ok());
    return out.logits;
  };
  auto rel_rms = [](const Tensor& a, const Tensor& b) {
    double diff = 0, ref = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      diff += (a.data[i] - b.data[i]) * (a.data[i] - b.data[i]);
      ref += b.data[i] * b.data[i];
    }
    return std::sqrt(diff / ref);
  };
  const Tensor f32 = run(KvCacheDtype::kF32, prompts_[1]);
  const double bf16 = rel_rms(run(KvCacheDtype::kBF16, prompts_[1]), f32);
  const double fp8 = rel_rms(run(KvCacheDtype::kFP8, prompts_[1]), f32);
  std::printf("cache dtype vs fp32, prompt 1 logits rel-rms: bf16 %.3g, fp8 %.3g\n", bf16, fp8);
  EXPECT_GT(bf16, 0.0);
  EXPECT_LT(bf16, 0.02);
  EXPECT_LT(fp8, 0.4);  // e4m3 rounds each element by ~3% rms and flips some top-k decisions
  std::vector<int32_t> other = prompts_[1];
  std::reverse(other.begin() + 1, other.end());
  const double unrelated = rel_rms(run(KvCacheDtype::kF32, other), f32);
  std::printf("unrelated prompt rel-rms %.3g\n", unrelated);
  EXPECT_GT(unrelated, 1.0);
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
  EXPECT_EQ(out.logits.shape, (Shape{1, 2048}));
  ForwardBatch none;  // an idle step is valid and returns no rows
  EXPECT_TRUE(m->Forward(none, *cache, &out).ok());
  EXPECT_EQ(out.logits.shape, (Shape{0, 2048}));
  EXPECT_EQ(out.row_begin, std::vector<int64_t>{0});
}

// A random checkpoint in the DeepSeek-V3 layout (no index_* keys: dense MLA), as FP8, as BF16, and with
// q_lora_rank null (q_proj instead of q_a/q_b, the DeepSeek-V2-Lite shape).
struct V3Variant {
  const char* name;
  bool bf16;
  bool no_q_lora;
};
class V3Layout : public ::testing::TestWithParam<V3Variant> {};

TEST_P(V3Layout, RunsAndDecodesConsistently) {
  const V3Variant variant = GetParam();
  auto preset = FindCheckpointPreset("tiny");
  ASSERT_TRUE(preset.ok());
  ModelConfig c = preset->config;
  c.model_type = "deepseek_v3";
  c.architecture = "DeepseekV3ForCausalLM";
  c.index_n_heads = c.index_head_dim = c.index_topk = 0;
  c.vocab_size = 512;
  c.num_nextn_predict_layers = 0;
  ASSERT_TRUE(SetNumLayers(2, &c).ok());
  if (variant.bf16) MakeBf16Only(&c);
  if (variant.no_q_lora) c.q_lora_rank = 0;
  test::TempDir tmp;
  CheckpointWriterOptions w;
  w.out_dir = tmp.path() + "/ckpt";
  w.seed = 42;
  w.num_threads = 1;
  ASSERT_TRUE(WriteRandomCheckpoint(c, w).ok());
  auto ckpt = Checkpoint::Open(w.out_dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  ASSERT_FALSE((*ckpt)->config().has_indexer());
  ASSERT_EQ((*ckpt)->Find("model.layers.0.self_attn.q_proj.weight") != nullptr, variant.no_q_lora);
  auto m = Model::Load(std::move(ckpt).value(), {.num_threads = 2});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < 12; ++i) ids.push_back((i * 37 + 5) % 512);
  const Tensor full = PrefillLogits(**m, ids);
  ASSERT_EQ(full.shape, (Shape{12, 512}));
  for (float v : full.data) ASSERT_TRUE(std::isfinite(v));
  // Decoding the last token through the cache equals the full prefill's last row: the projections run the
  // same dot kernels (12 tokens stay below kernels::kMinGemmTokens), but the prefill attends in the expanded
  // form and the decode in the absorbed one.
  auto cache = MakeCache(**m, 1);
  ForwardBatch batch;
  batch.seqs.push_back(Chunk(0, Slice(ids, 0, 11), 0, SequenceChunk::Logits::kNone));
  ForwardOutput out;
  ASSERT_TRUE((*m)->Forward(batch, *cache, &out).ok());
  batch.seqs[0] = Chunk(0, {ids[11]}, 11, SequenceChunk::Logits::kLast);
  ASSERT_TRUE((*m)->Forward(batch, *cache, &out).ok());
  EXPECT_LE(MaxAbsDiff(out.logits.ptr(), full.ptr() + 11 * 512, 512), kKernelOrder);
  EXPECT_GT(MaxAbsDiff(out.logits.ptr(), full.ptr() + 10 * 512, 512), 1e-2);  // negative control
}

INSTANTIATE_TEST_SUITE_P(Variants, V3Layout,
                         ::testing::Values(V3Variant{"Fp8", false, false}, V3Variant{"Bf16", true, false},
                                           V3Variant{"Fp8WithoutQLora", false, true}),
                         [](const ::testing::TestParamInfo<V3Variant>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sieve::model
