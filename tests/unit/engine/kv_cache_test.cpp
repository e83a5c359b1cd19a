// KV-cache sizing from a memory budget, and the accuracy cost of bf16 / fp8 KV caches on the fixture.
#include "engine/kv_cache.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/unit/engine/engine_test_support.h"

namespace sieve::engine {
namespace {

TEST(KvCacheSize, FromGibBudget) {
  EngineOptions o;
  o.block_size = 64;
  o.kv_cache_memory_gib = 1.0;
  auto s = SizeKvCache(o, 1024, int64_t{1} << 40, 0);  // 1 KiB per token: 1 GiB = 1 Mi tokens
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->num_blocks, (int64_t{1} << 20) / 64);
  EXPECT_EQ(s->token_capacity(), int64_t{1} << 20);
  EXPECT_EQ(s->bytes(), int64_t{1} << 30);
}

TEST(KvCacheSize, FromFractionOfAvailableAndCappedAtUseful) {
  EngineOptions o;
  o.block_size = 16;
  o.kv_cache_memory_fraction = 0.5;
  auto s = SizeKvCache(o, 100, int64_t{1} << 40, 160000);  // 80000 bytes = 800 tokens = 50 blocks
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->num_blocks, 50);
  auto capped = SizeKvCache(o, 100, 100, 160000);  // never more than 100 useful tokens: 7 blocks
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->num_blocks, 7);
}

TEST(KvCacheSize, BudgetBelowOneBlockIsAnError) {
  EngineOptions o;
  o.block_size = 64;
  o.kv_cache_memory_gib = 1e-9;
  auto s = SizeKvCache(o, 1000, 1 << 20, 0);
  EXPECT_EQ(s.status().code(), StatusCode::kResourceExhausted);
}

// Logit error of a bf16 / fp8 cache against an fp32 one: 8 new rows attend to `cached` positions read
// back from the cache in its dtype. 24 + 8 <= index_topk (32), so every position is attended and only
// the storage precision is measured (past index_topk the indexer's top-k choice can flip as well).
struct LogitError {
  double max_abs = 0, mean_abs = 0;
};
LogitError AgainstF32(model::Model& m, model::KvCacheDtype dtype) {
  constexpr int kCached = 24;
  const std::vector<int32_t> prompt = test_support::Prompt(kCached + 8, 11);
  auto run = [&](model::KvCacheDtype d) {
    model::PagedKvCache cache(m.config(), m.num_cache_layers(), 2, 16, d);
    model::ForwardBatch b;
    b.seqs.resize(1);
    b.seqs[0].block_table = {0, 1};
    b.seqs[0].token_ids.assign(prompt.begin(), prompt.begin() + kCached);
    b.seqs[0].logits = model::SequenceChunk::Logits::kNone;
    model::ForwardOutput out;
    EXPECT_TRUE(m.Forward(b, cache, &out).ok());
    b.seqs[0].token_ids.assign(prompt.begin() + kCached, prompt.end());
    b.seqs[0].start_pos = kCached;
    b.seqs[0].logits = model::SequenceChunk::Logits::kAll;
    EXPECT_TRUE(m.Forward(b, cache, &out).ok());
    return out.logits;  // [8, vocab_size]
  };
  const Tensor want = run(model::KvCacheDtype::kF32), got = run(dtype);
  LogitError e;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double d = std::abs(want.data[i] - got.data[i]);
    e.max_abs = std::max(e.max_abs, d);
    e.mean_abs += d / double(want.numel());
  }
  return e;
}

// Measured on tiny-dsv32-a (logits std ~1.5, max ~7), max / mean |logit - logit_f32|:
//   bf16 0.026 / 0.0042;  fp8 e4m3 (per-token scales) 2.24 / 0.18, and 2 of 8 argmaxes change.
// fp8's error is ~40x bf16's, as its 3 mantissa bits against bf16's 7 predict (2^4 = 16x per value),
// amplified by this random network. Tolerances below leave ~2x headroom over the measurement.
TEST(KvCacheDtype, Bf16AndFp8LogitsStayWithinTolerance) {
  auto m = test_support::TinyModel();
  if (!m) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; KV dtype accuracy test skipped";
  const LogitError bf16 = AgainstF32(*m, model::KvCacheDtype::kBF16);
  const LogitError fp8 = AgainstF32(*m, model::KvCacheDtype::kFP8);
  std::printf("max / mean |logit - logit_f32|: bf16 %.4f / %.5f, fp8 %.4f / %.5f\n", bf16.max_abs, bf16.mean_abs,
              fp8.max_abs, fp8.mean_abs);
  EXPECT_LE(bf16.max_abs, 0.06);
  EXPECT_LE(bf16.mean_abs, 0.01);
  EXPECT_LE(fp8.max_abs, 4.5);
  EXPECT_LE(fp8.mean_abs, 0.36);
  // Negative control: the cache dtype is really exercised, and the coarser cache is further off.
  EXPECT_GT(bf16.mean_abs, 0.0);
  EXPECT_GT(fp8.mean_abs, 5 * bf16.mean_abs);
}

}  // namespace
}  // namespace sieve::engine
