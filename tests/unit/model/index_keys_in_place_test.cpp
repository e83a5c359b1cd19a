// The indexer scores its keys where the paged KV cache holds them (PagedKvCache::IndexKeys /
// IndexKeyFormat, kernels/index_score.h). For every KV dtype, scoring a sequence's keys in place across a
// shuffled block table, split over 1, 2 and 3 threads as Indexer::Select splits a decode step, gives the
// bits of the path it replaced: every key read back with ReadIndexKey into a contiguous fp32 buffer (for
// fp8, whose scores use the codes, every raw key row copied into a contiguous buffer), then scored in one
// call.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/index_score.h"
#include "kernels/thread_pool.h"
#include "model/paged_kv_cache.h"

namespace sieve::model {
namespace {

class IndexKeysInPlace : public ::testing::TestWithParam<KvCacheDtype> {};

TEST_P(IndexKeysInPlace, ScoresEqualTheCopyPathAtAnyThreadCount) {
  ModelConfig c;
  c.kv_lora_rank = 64;
  c.qk_rope_head_dim = 16;
  c.index_n_heads = 64;
  c.index_head_dim = 128;
  const int64_t block_size = 16, num_blocks = 24, context = 301, layer = 1;
  PagedKvCache cache(c, 2, num_blocks, block_size, GetParam());
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<int32_t> block_table(num_blocks);
  for (int64_t b = 0; b < num_blocks; ++b) block_table[b] = static_cast<int32_t>((b * 7) % num_blocks);
  std::vector<float> latent(c.kv_lora_rank), rope(c.qk_rope_head_dim), key(c.index_head_dim);
  for (int64_t l = 0; l < 2; ++l)  // layer 0 too, so that reading the wrong layer shows
    for (int64_t p = 0; p < context; ++p) {
      for (auto* v : {&latent, &rope, &key})
        for (float& f : *v) f = normal(rng);
      cache.Write(l, block_table[p / block_size], p % block_size, latent.data(), rope.data(), key.data());
    }
  std::vector<float> q(c.index_n_heads * c.index_head_dim), w(c.index_n_heads);
  for (auto* v : {&q, &w})
    for (float& f : *v) f = normal(rng);

  // fp8 rows are scored from their codes and scale (the FP8 numerics), so their copy is the raw row;
  // fp32 / bf16 keys are read back as fp32.
  const kernels::IndexKeyFormat format = cache.IndexKeyFormat();
  auto copy_path = [&](int64_t l) {
    std::vector<float> keys(context * c.index_head_dim), scores(context);
    std::vector<uint8_t> raw(context * format.row_bytes);
    for (int64_t p = 0; p < context; ++p) {
      if (GetParam() == KvCacheDtype::kFP8)
        std::memcpy(raw.data() + p * format.row_bytes,
                    cache.IndexKeys(l, block_table[p / block_size]) + (p % block_size) * format.row_bytes,
                    format.row_bytes);
      else cache.ReadIndexKey(l, block_table[p / block_size], p % block_size, keys.data() + p * c.index_head_dim);
    }
    const bool fp8 = GetParam() == KvCacheDtype::kFP8;
    const uint8_t* block = fp8 ? raw.data() : reinterpret_cast<const uint8_t*>(keys.data());
    const kernels::IndexKeyRows rows{
        &block, context, fp8 ? format : kernels::IndexKeyFormat{kernels::IndexKeyType::kF32, c.index_head_dim * 4, 0}};
    kernels::IndexScores(q.data(), w.data(), c.index_n_heads, c.index_head_dim, rows, 0, context, scores.data());
    return scores;
  };
  const std::vector<float> want = copy_path(layer);
  ASSERT_NE(want, copy_path(0));  // the comparison below can tell the layers apart

  std::vector<const uint8_t*> blocks((context + block_size - 1) / block_size);
  for (size_t b = 0; b < blocks.size(); ++b) blocks[b] = cache.IndexKeys(layer, block_table[b]);
  const kernels::IndexKeyRows rows{blocks.data(), block_size, format};
  for (const int threads : {1, 2, 3}) {
    kernels::ThreadPool pool(threads);
    std::vector<float> got(context);
    pool.ParallelFor(context, [&](int64_t k0, int64_t k1) {
      kernels::IndexScores(q.data(), w.data(), c.index_n_heads, c.index_head_dim, rows, k0, k1, got.data() + k0);
    }, /*grain=*/10);
    EXPECT_EQ(got, want) << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, IndexKeysInPlace,
                         ::testing::Values(KvCacheDtype::kF32, KvCacheDtype::kBF16, KvCacheDtype::kFP8),
                         [](const ::testing::TestParamInfo<KvCacheDtype>& info) {
                           switch (info.param) {
                             case KvCacheDtype::kF32: return std::string("F32");
                             case KvCacheDtype::kBF16: return std::string("BF16");
                             case KvCacheDtype::kFP8: return std::string("FP8");
                           }
                           return std::string();
                         });

}  // namespace
}  // namespace sieve::model
