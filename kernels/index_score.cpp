// Lightning-indexer scores (see index_score.h), compiled once per Highway target and dispatched at
// runtime. The heads are the vector lanes: q is transposed once per call to qt [head_dim, heads], so a
// block of keys is a small GEMM [keys x head_dim] . [head_dim x heads] whose accumulators already hold
// one (key, head) dot product per lane. ReLU and the head weights then apply lane-wise, and each key
// needs a single horizontal sum (instead of one per head, as 64 separate dot products would).
// Keys are read in place from the paged cache's index-key rows (no copy into a contiguous fp32 buffer);
// bf16 / fp8 keys are decoded a few rows at a time into a buffer that stays in L1, so only their 2 / 1
// bytes per element come from memory. With fp8 KV this took a 32K-context decode step of the `small`
// preset from 198 to 115 ms (medians of 3 pairs); with fp32 KV it changed nothing measurable
// (docs/performance.md, round 4).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/index_score.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/aligned_allocator.h>
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "kernels/cpu/decode_lanes-inl.h"
#include "kernels/index_score.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Keys scored together: each loaded qt vector feeds kKeys FMAs (4 keys x 4 head vectors = 16 accumulators,
// half the AVX-512 register file).
constexpr int kKeys = 4;
constexpr int kHeadVecs = 4;

// hsum[j] += sum over head vectors g of w_g * ReLU(acc_g), for keys j < K, with acc_g the dots of key j
// with heads [h0 + g * lanes, h0 + (g + 1) * lanes). Per (key, head) lane the dot is summed over d in
// order, and the head vectors are added in order, whatever K or G: results do not depend on the blocking.
template <int K, int G, class D>
HWY_INLINE void AccumulateHeads(D df, const float* qt, int64_t heads_padded, const float* w, int64_t h0,
                                int64_t head_dim, const float* const* key, hn::Vec<D>* hsum) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<D> acc[K][G];
  for (int j = 0; j < K; ++j)
    for (int g = 0; g < G; ++g) acc[j][g] = hn::Zero(df);
  for (int64_t d = 0; d < head_dim; ++d) {
    hn::Vec<D> q[G];
    for (int g = 0; g < G; ++g) q[g] = hn::Load(df, qt + d * heads_padded + h0 + g * lanes);
    for (int j = 0; j < K; ++j) {
      const auto k = hn::Set(df, key[j][d]);
      for (int g = 0; g < G; ++g) acc[j][g] = hn::MulAdd(k, q[g], acc[j][g]);
    }
  }
  for (int j = 0; j < K; ++j)
    for (int g = 0; g < G; ++g)
      hsum[j] = hn::MulAdd(hn::Max(acc[j][g], hn::Zero(df)), hn::Load(df, w + h0 + g * lanes), hsum[j]);
}

// Scores of the K keys key[0..K).
template <int K, class D>
HWY_INLINE void ScoreKeys(D df, const float* qt, const float* w, int64_t heads_padded, int64_t head_dim,
                          const float* const* key, float* scores) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<D> hsum[K];
  for (int j = 0; j < K; ++j) hsum[j] = hn::Zero(df);
  int64_t h0 = 0;
  for (; h0 + kHeadVecs * lanes <= heads_padded; h0 += kHeadVecs * lanes)
    AccumulateHeads<K, kHeadVecs>(df, qt, heads_padded, w, h0, head_dim, key, hsum);
  for (; h0 < heads_padded; h0 += lanes) AccumulateHeads<K, 1>(df, qt, heads_padded, w, h0, head_dim, key, hsum);
  for (int j = 0; j < K; ++j) scores[j] = hn::GetLane(hn::SumOfLanes(df, hsum[j]));
}

// Key row p as fp32: in place for kF32; else decoded into `buffer` [head_dim], exactly as the cache's
// ReadIndexKey decodes it (bf16: the top half of the float; fp8: E4m3ToFloat(code) * scale, one rounding).
template <class D>
HWY_INLINE const float* KeyRow(D df, const IndexKeyRows& keys, int64_t head_dim, int64_t p, float* buffer) {
  const uint8_t* row = keys.blocks[p / keys.block_rows] + (p % keys.block_rows) * keys.format.row_bytes;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t d = 0;
  switch (keys.format.type) {
    case IndexKeyType::kF32: return reinterpret_cast<const float*>(row);
    case IndexKeyType::kBF16: {
      const auto* codes = reinterpret_cast<const uint16_t*>(row);
      for (; d + lanes <= head_dim; d += lanes) hn::StoreU(Bf16Lanes(df, codes + d), df, buffer + d);
      for (; d < head_dim; ++d) buffer[d] = Bf16ToFloat(codes[d]);
      return buffer;
    }
    case IndexKeyType::kFP8: {
      float scale;
      std::memcpy(&scale, row + keys.format.scale_offset, sizeof(scale));
      // E4m3Lanes folds 2^120 into the scale (see kernels/cpu/decode_lanes-inl.h): same single rounding of
      // code * scale as long as scale * 2^120 is finite and no code is NaN; otherwise the scalar decode.
      const float folded = scale * kE4m3Unbias;
      if (std::isfinite(folded) && !HasE4m3Nan(row, head_dim)) {
        const auto folded_lanes = hn::Set(df, folded);
        for (; d + lanes <= head_dim; d += lanes) hn::StoreU(E4m3Lanes(df, row + d, folded_lanes), df, buffer + d);
      }
      for (; d < head_dim; ++d) buffer[d] = E4m3ToFloat(row[d]) * scale;
      return buffer;
    }
  }
  return buffer;
}

void IndexScoresImpl(const float* q, const float* w, int64_t n_heads, int64_t head_dim, const IndexKeyRows& keys,
                     int64_t key_begin, int64_t key_end, float* scores) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  // Heads padded to whole vectors with zero q and zero weight: a padded lane adds w * ReLU(0) = +0.
  const int64_t heads_padded = (n_heads + lanes - 1) / lanes * lanes;
  // qt [head_dim, heads_padded], then w [heads_padded], then kKeys decoded key rows [kKeys, head_dim].
  thread_local hwy::AlignedFreeUniquePtr<float[]> scratch;
  thread_local int64_t capacity = 0;
  const int64_t need = (head_dim + 1) * heads_padded + kKeys * head_dim;
  if (need > capacity) {
    scratch = hwy::AllocateAligned<float>(static_cast<size_t>(need));
    capacity = need;
  }
  float* qt = scratch.get();
  float* wp = qt + head_dim * heads_padded;
  float* decoded = wp + heads_padded;
  std::fill(qt, decoded, 0.0f);
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t d = 0; d < head_dim; ++d) qt[d * heads_padded + h] = q[h * head_dim + d];
    wp[h] = w[h];
  }
  const float* key[kKeys];
  int64_t s = key_begin;
  for (; s + kKeys <= key_end; s += kKeys) {
    for (int j = 0; j < kKeys; ++j) key[j] = KeyRow(df, keys, head_dim, s + j, decoded + j * head_dim);
    ScoreKeys<kKeys>(df, qt, wp, heads_padded, head_dim, key, scores + (s - key_begin));
  }
  for (; s < key_end; ++s) {
    key[0] = KeyRow(df, keys, head_dim, s, decoded);
    ScoreKeys<1>(df, qt, wp, heads_padded, head_dim, key, scores + (s - key_begin));
  }
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(IndexScoresImpl);

void IndexScores(const float* q, const float* w, int64_t n_heads, int64_t head_dim, const IndexKeyRows& keys,
                 int64_t key_begin, int64_t key_end, float* scores) {
  HWY_DYNAMIC_DISPATCH(IndexScoresImpl)(q, w, n_heads, head_dim, keys, key_begin, key_end, scores);
}
}  // namespace sieve::kernels
#endif
