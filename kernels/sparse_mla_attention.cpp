// Absorbed MLA attention over selected tokens (see sparse_mla_attention.h). The scores and the weighted
// sum of latents are compiled once per Highway target and dispatched at runtime.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/sparse_mla_attention.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/exp_sum.h"
#include "kernels/matmul.h"
#include "kernels/sparse_mla_attention.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Heads and output vectors accumulated in registers at once: 4 x 4 = 16 accumulators, each latent vector
// loaded once for 4 heads.
constexpr int64_t kSumHeads = 4, kSumVectors = 4;
// Keys ahead whose column slice the weighted sum prefetches: gathered rows are 2 KiB apart, so each key's
// slice is a new short stream the hardware prefetchers do not follow (docs/performance.md, round 13).
constexpr int64_t kSumPrefetchKeys = 8;

// out[h][col_begin, col_end) = sum over i of p[h * n + i] * latent[selected[i]][...] for h < count (rows
// of out and latent c floats apart), c and col_begin whole numbers of vectors: per output element one
// MulAdd per key in key order from +0, the chain of roundings Axpy(p, latent, out) key after key makes
// from a zeroed out, kept in registers over all keys instead of stored and reloaded per key and head (at
// 2,048 keys the Axpy calls were ~8% of a 32K DSA decode step's samples).
void WeightedLatentsImpl(const float* p, const float* latent, int64_t c, const int32_t* selected, int64_t n,
                         int64_t count, int64_t col_begin, int64_t col_end, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  using V = hn::Vec<decltype(df)>;
  // Column slices outer, head groups inner: a slice of every selected latent (2,048 x 256 B with AVX-512)
  // fits L2, so the head groups after the first read it from there.
  for (int64_t v0 = col_begin; v0 < col_end; v0 += kSumVectors * lanes) {
    const int64_t vectors = std::min(kSumVectors, (col_end - v0) / lanes);
    for (int64_t h0 = 0; h0 < count; h0 += kSumHeads) {
      const int64_t heads = std::min(kSumHeads, count - h0);
      V acc[kSumHeads][kSumVectors];
      for (int64_t g = 0; g < kSumHeads; ++g)
        for (int64_t v = 0; v < kSumVectors; ++v) acc[g][v] = hn::Zero(df);
      if (heads == kSumHeads && vectors == kSumVectors) {  // the common case, fully unrolled
        for (int64_t i = 0; i < n; ++i) {
          if (i + kSumPrefetchKeys < n) {
            const float* ahead = latent + selected[i + kSumPrefetchKeys] * c + v0;
            for (int64_t o = 0; o < kSumVectors * lanes; o += 64 / static_cast<int64_t>(sizeof(float))) hwy::Prefetch(ahead + o);
          }
          const float* row = latent + selected[i] * c + v0;
          V x[kSumVectors];
          HWY_UNROLL(4) for (int64_t v = 0; v < kSumVectors; ++v) x[v] = hn::LoadU(df, row + v * lanes);
          HWY_UNROLL(4) for (int64_t g = 0; g < kSumHeads; ++g) {
            const V a = hn::Set(df, p[(h0 + g) * n + i]);
            HWY_UNROLL(4) for (int64_t v = 0; v < kSumVectors; ++v) acc[g][v] = hn::MulAdd(a, x[v], acc[g][v]);
          }
        }
      } else {
        for (int64_t i = 0; i < n; ++i) {
          const float* row = latent + selected[i] * c + v0;
          for (int64_t g = 0; g < heads; ++g) {
            const V a = hn::Set(df, p[(h0 + g) * n + i]);
            for (int64_t v = 0; v < vectors; ++v) acc[g][v] = hn::MulAdd(a, hn::LoadU(df, row + v * lanes), acc[g][v]);
          }
        }
      }
      for (int64_t g = 0; g < heads; ++g)
        for (int64_t v = 0; v < vectors; ++v) hn::StoreU(acc[g][v], df, out + (h0 + g) * c + v0 + v * lanes);
    }
  }
}

// Whether WeightedLatentsImpl takes c columns (a whole number of vectors on this target).
bool WeightedLatentsFitImpl(int64_t c) { return c % static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>())) == 0; }

// Heads whose scores share each key vector load: 4 heads x 4 accumulators = 16 registers.
constexpr int64_t kScoreHeads = 4;

// v[g] = the vector DotImpl reduces for Dot(q + g * q_stride, k, n), g < G, n a multiple of 4 vectors
// (kernels/cpu/matmul.cpp: accumulators by vector index mod 4 from zero, then (s0 + s1) + (s2 + s3)); its
// lanes' sum (SumOfLanes) is the Dot. Each key vector is loaded once for the G heads (one load per FMA plus
// 1 / G). G is a compile-time count so that the accumulators stay in registers; kWidth > 0 fixes n and
// q_stride at compile time (DeepSeek's latent width, 512, for every model of the family), so the loop
// unrolls whole and every query load is one base register plus a constant.
template <int64_t G, int64_t kWidth, class D>
HWY_INLINE void HeadDotVectors(D df, const float* q, int64_t q_stride, const float* k, int64_t n, hn::Vec<D> (&v)[G]) {
  if constexpr (kWidth > 0) q_stride = kWidth;
  // An empty asm that "changes" k: without it GCC 12 computes a key's 32 vector addresses once for all the
  // head groups of ScoresForWidth and keeps them in stack slots, a load per key vector load.
  asm("" : "+r"(k));
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  using V = hn::Vec<D>;
  V s[G][4];
  HWY_UNROLL(4) for (int64_t g = 0; g < G; ++g) HWY_UNROLL(4) for (int64_t j = 0; j < 4; ++j) s[g][j] = hn::Zero(df);
  const auto step = [&](int64_t i) HWY_ATTR {
    V kv[4];
    HWY_UNROLL(4) for (int64_t j = 0; j < 4; ++j) kv[j] = hn::LoadU(df, k + i + j * lanes);
    HWY_UNROLL(4) for (int64_t g = 0; g < G; ++g)
      HWY_UNROLL(4) for (int64_t j = 0; j < 4; ++j)
        s[g][j] = hn::MulAdd(hn::LoadU(df, q + g * q_stride + i + j * lanes), kv[j], s[g][j]);
  };
  if constexpr (kWidth > 0) {
    HWY_UNROLL(16) for (int64_t i = 0; i < kWidth; i += 4 * lanes) step(i);  // a compile-time count
  } else {
    for (int64_t i = 0; i < n; i += 4 * lanes) step(i);  // clang refuses an unroll pragma on a runtime count
  }
  HWY_UNROLL(4) for (int64_t g = 0; g < G; ++g) v[g] = hn::Add(hn::Add(s[g][0], s[g][1]), hn::Add(s[g][2], s[g][3]));
}

// Whether ScoresImpl takes latent width c and rope width r (multiples of 4 vectors on this target).
bool ScoresFitImpl(int64_t c, int64_t r) {
  const int64_t group = 4 * static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  return c % group == 0 && r % group == 0;
}

// The latent width ScoresImpl compiles a fixed-size loop for (kv_lora_rank of every DeepSeek-V3.x model).
constexpr int64_t kDeepSeekLatent = 512;

// scores[h * n + i] for the G heads from h0 and key i: (Dot(q_latent[h], latent[selected[i]], c) +
// Dot(q_rope[h], k_rope[selected[i]], r)) * scale, with Dot's bits; kWidth: c at compile time, or 0.
template <int64_t G, int64_t kWidth>
HWY_INLINE void GroupScores(const MlaQueryHeads& heads, int64_t h0, const LatentCache& cache, const int32_t* selected,
                            int64_t n, int64_t i, float scale, float* scores) {
  const hn::ScalableTag<float> df;
  const int64_t c = cache.kv_lora_rank, r = cache.qk_rope_head_dim;
  hn::Vec<decltype(df)> vl[G], vr[G];
  HeadDotVectors<G, kWidth>(df, heads.q_latent + h0 * c, c, cache.latent + selected[i] * c, c, vl);
  HeadDotVectors<G, 0>(df, heads.q_rope + h0 * heads.q_rope_stride, heads.q_rope_stride, cache.k_rope + selected[i] * r,
                       r, vr);
  HWY_UNROLL(4) for (int64_t g = 0; g < G; ++g)
    scores[(h0 + g) * n + i] = (hn::GetLane(hn::SumOfLanes(df, vl[g])) + hn::GetLane(hn::SumOfLanes(df, vr[g]))) * scale;
}

template <int64_t kWidth>
void ScoresForWidth(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n,
                    int64_t begin, int64_t end, float scale, float* scores) {
  const int64_t full = heads.count - heads.count % kScoreHeads;
  for (int64_t i = begin; i < end; ++i) {
    for (int64_t h0 = 0; h0 < full; h0 += kScoreHeads)
      GroupScores<kScoreHeads, kWidth>(heads, h0, cache, selected, n, i, scale, scores);
    switch (heads.count - full) {
      case 3: GroupScores<3, kWidth>(heads, full, cache, selected, n, i, scale, scores); break;
      case 2: GroupScores<2, kWidth>(heads, full, cache, selected, n, i, scale, scores); break;
      case 1: GroupScores<1, kWidth>(heads, full, cache, selected, n, i, scale, scores); break;
      default: break;
    }
  }
}

// scores[h * n + i] = (Dot(q_latent[h], latent[selected[i]], c) + Dot(q_rope[h], k_rope[selected[i]], r)) *
// scale for every head and i in [begin, end): the bits of per-head Dot calls. Key by key (each key's
// 2.3 KiB read once, then from L1 for every group of heads), heads in groups of kScoreHeads.
void ScoresImpl(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n,
                int64_t begin, int64_t end, float scale, float* scores) {
  if (cache.kv_lora_rank == kDeepSeekLatent) {
    ScoresForWidth<kDeepSeekLatent>(heads, cache, selected, n, begin, end, scale, scores);
  } else {
    ScoresForWidth<0>(heads, cache, selected, n, begin, end, scale, scores);
  }
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(WeightedLatentsImpl);
HWY_EXPORT(WeightedLatentsFitImpl);
HWY_EXPORT(ScoresImpl);
HWY_EXPORT(ScoresFitImpl);

void SparseMlaScores(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n_selected,
                     int64_t begin, int64_t end, float softmax_scale, float* scores) {
  const int64_t c = cache.kv_lora_rank, r = cache.qk_rope_head_dim;
  if (HWY_DYNAMIC_DISPATCH(ScoresFitImpl)(c, r)) {
    HWY_DYNAMIC_DISPATCH(ScoresImpl)(heads, cache, selected, n_selected, begin, end, softmax_scale, scores);
    return;
  }
  for (int64_t i = begin; i < end; ++i) {
    const float* latent = cache.latent + selected[i] * c;
    const float* k_rope = cache.k_rope + selected[i] * r;
    for (int64_t h = 0; h < heads.count; ++h)
      scores[h * n_selected + i] =
          (Dot(heads.q_latent + h * c, latent, c) + Dot(heads.q_rope + h * heads.q_rope_stride, k_rope, r)) * softmax_scale;
  }
}

void SparseMlaSoftmax(float* scores, int64_t count, int64_t n_selected) {
  // In SIMD (exp_sum.h: a scalar std::exp per key and head was ~10% of the attention at 2,048 keys); each
  // weight becomes exp(score - max) / sum, as SparseMlaHead's Axpy took it.
  for (int64_t h = 0; h < count && n_selected > 0; ++h) {
    float* p = scores + h * n_selected;
    const float sum = ExpShiftedSum(p, n_selected, MaxOf(p, n_selected), 1.0f);
    for (int64_t i = 0; i < n_selected; ++i) p[i] /= sum;
  }
}

void SparseMlaWeightedSum(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected,
                          int64_t n_selected, const float* p, int64_t col_begin, int64_t col_end) {
  const int64_t c = cache.kv_lora_rank, count = heads.count;
  if (HWY_DYNAMIC_DISPATCH(WeightedLatentsFitImpl)(c)) {
    HWY_DYNAMIC_DISPATCH(WeightedLatentsImpl)(p, cache.latent, c, selected, n_selected, count, col_begin, col_end,
                                              heads.out);
    return;
  }
  // Axpy over the columns: col_begin on a whole vector, so each column is in the same (vector or scalar
  // tail) part of Axpy as in a call over the whole row.
  for (int64_t h = 0; h < count; ++h) std::fill(heads.out + h * c + col_begin, heads.out + h * c + col_end, 0.0f);
  for (int64_t i = 0; i < n_selected; ++i) {
    const float* latent = cache.latent + selected[i] * c + col_begin;
    for (int64_t h = 0; h < count; ++h) Axpy(p[h * n_selected + i], latent, heads.out + h * c + col_begin, col_end - col_begin);
  }
}

void SparseMlaAttendScored(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected,
                           int64_t n_selected, float* scores) {
  SparseMlaSoftmax(scores, heads.count, n_selected);
  SparseMlaWeightedSum(heads, cache, selected, n_selected, scores, 0, cache.kv_lora_rank);
}

void SparseMlaHeads(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n_selected,
                    float softmax_scale, float* scores) {
  SparseMlaScores(heads, cache, selected, n_selected, 0, n_selected, softmax_scale, scores);
  SparseMlaAttendScored(heads, cache, selected, n_selected, scores);
}

void SparseMlaHead(const float* q_latent, const float* q_rope, const LatentCache& cache, const int32_t* selected,
                   int64_t n_selected, float softmax_scale, float* scores, float* out) {
  SparseMlaHeads({.q_latent = q_latent, .q_rope = q_rope, .q_rope_stride = 0, .out = out, .count = 1}, cache, selected,
                 n_selected, softmax_scale, scores);
}

}  // namespace sieve::kernels
#endif
