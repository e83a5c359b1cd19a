// PagedKvCache: each dtype stores and returns a token's vectors (exact for fp32, within its rounding for
// bf16 / fp8; the fp8 index key as the reference's act_quant), entries of different layers, blocks and slots do not overlap, and CopyBlock copies all layers.
#include "model/paged_kv_cache.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/act_quant.h"

namespace sieve::model {
namespace {

ModelConfig SmallConfig() {
  ModelConfig c;
  c.kv_lora_rank = 16;
  c.qk_rope_head_dim = 8;
  c.index_n_heads = 2;
  c.index_head_dim = 32;
  return c;
}

struct Entry {
  std::vector<float> latent, k_rope, index_k;
};

Entry RandomEntry(std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 3.0f);
  Entry e{std::vector<float>(16), std::vector<float>(8), std::vector<float>(32)};
  for (auto* v : {&e.latent, &e.k_rope, &e.index_k})
    for (float& f : *v) f = d(rng);
  return e;
}

double MaxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double amax = 0, worst = 0;
  for (float v : b) amax = std::max(amax, static_cast<double>(std::abs(v)));
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])));
  return worst / amax;
}

// Writes a distinct entry to every (layer, block, slot), reads them all back; returns the worst relative error.
double RoundTrip(KvCacheDtype dtype) {
  const ModelConfig c = SmallConfig();
  PagedKvCache cache(c, 3, 4, 5, dtype);
  std::mt19937 rng(1);
  std::vector<Entry> written;
  for (int64_t l = 0; l < 3; ++l)
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t s = 0; s < 5; ++s) {
        written.push_back(RandomEntry(rng));
        const Entry& e = written.back();
        cache.Write(l, b, s, e.latent.data(), e.k_rope.data(), e.index_k.data());
      }
  double worst = 0;
  size_t i = 0;
  for (int64_t l = 0; l < 3; ++l)
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t s = 0; s < 5; ++s, ++i) {
        Entry got{std::vector<float>(16), std::vector<float>(8), std::vector<float>(32)};
        cache.ReadLatent(l, b, s, got.latent.data(), got.k_rope.data());
        cache.ReadIndexKey(l, b, s, got.index_k.data());
        worst = std::max({worst, MaxRelDiff(got.latent, written[i].latent), MaxRelDiff(got.k_rope, written[i].k_rope),
                          MaxRelDiff(got.index_k, written[i].index_k)});
      }
  return worst;
}

TEST(PagedKvCache, Fp32IsExact) { EXPECT_EQ(RoundTrip(KvCacheDtype::kF32), 0.0); }
// bf16 keeps 8 significant bits: relative error <= 2^-8 of the value, so <= 2^-8 of the vector's amax.
TEST(PagedKvCache, Bf16WithinItsRounding) { EXPECT_LE(RoundTrip(KvCacheDtype::kBF16), 0x1p-8); }
// e4m3 with scale amax / 448 (latent, k_rope) or the power of two above it (index key): error <= half a
// step at the top binade, <= 2^-4 of the vector's amax either way.
TEST(PagedKvCache, Fp8WithinItsRounding) {
  const double e = RoundTrip(KvCacheDtype::kFP8);
  EXPECT_LE(e, 0x1p-4);
  EXPECT_GT(e, 0.0);  // it really is quantised
}

// The index key is stored as the reference's indexer caches it (act_quant, UE8M0): codes and scale equal
// ActQuantE4m3's, the scale a power of two, and the codes read back at IndexKeys' row.
TEST(PagedKvCache, Fp8IndexKeyIsActQuant) {
  const ModelConfig c = SmallConfig();
  PagedKvCache cache(c, 1, 2, 4, KvCacheDtype::kFP8);
  std::mt19937 rng(6);
  const Entry e = RandomEntry(rng);
  cache.Write(0, 1, 3, e.latent.data(), e.k_rope.data(), e.index_k.data());
  const int64_t n = static_cast<int64_t>(e.index_k.size());
  std::vector<uint8_t> want(n);
  const float want_scale = ActQuantE4m3(e.index_k.data(), n, want.data());
  const kernels::IndexKeyFormat format = cache.IndexKeyFormat();
  const uint8_t* row = cache.IndexKeys(0, 1) + 3 * format.row_bytes;
  EXPECT_EQ(std::vector<uint8_t>(row, row + n), want);
  float scale;
  std::memcpy(&scale, row + format.scale_offset, 4);
  EXPECT_EQ(scale, want_scale);
  int exponent = 0;
  EXPECT_EQ(std::frexp(scale, &exponent), 0.5f);
}

TEST(PagedKvCache, CopyBlockCopiesEveryLayer) {
  const ModelConfig c = SmallConfig();
  PagedKvCache cache(c, 2, 3, 4, KvCacheDtype::kF32);
  std::mt19937 rng(2);
  const Entry a = RandomEntry(rng), b = RandomEntry(rng);
  cache.Write(0, 1, 2, a.latent.data(), a.k_rope.data(), a.index_k.data());
  cache.Write(1, 1, 2, b.latent.data(), b.k_rope.data(), b.index_k.data());
  cache.CopyBlock(1, 2);
  std::vector<float> latent(16), k_rope(8), index_k(32);
  cache.ReadLatent(1, 2, 2, latent.data(), k_rope.data());
  cache.ReadIndexKey(1, 2, 2, index_k.data());
  EXPECT_EQ(latent, b.latent);
  EXPECT_EQ(index_k, b.index_k);
  cache.ReadLatent(0, 2, 2, latent.data(), k_rope.data());
  EXPECT_EQ(latent, a.latent);
  EXPECT_NE(latent, b.latent);
}

TEST(PagedKvCache, SizesAndDtypeNames) {
  const ModelConfig c = SmallConfig();
  EXPECT_EQ(PagedKvCache::BytesPerToken(c, 2, KvCacheDtype::kF32), 2 * (16 + 8 + 32) * 4);
  EXPECT_EQ(PagedKvCache::BytesPerToken(c, 2, KvCacheDtype::kFP8), 2 * ((16 + 8 + 32) + 12));
  EXPECT_EQ(*ParseKvCacheDtype("auto"), KvCacheDtype::kF32);
  EXPECT_EQ(*ParseKvCacheDtype("bfloat16"), KvCacheDtype::kBF16);
  EXPECT_EQ(*ParseKvCacheDtype("fp8_e4m3"), KvCacheDtype::kFP8);
  EXPECT_EQ(ParseKvCacheDtype("int4").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sieve::model
