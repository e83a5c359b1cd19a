// Absorbed MLA attention for one head over selected tokens (see sparse_mla_attention.h). The weighted sum
// of latents is compiled once per Highway target and dispatched at runtime.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/sparse_mla_attention.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/sparse_mla_attention.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Heads and output vectors accumulated in registers at once: 4 x 4 = 16 accumulators, each latent vector
// loaded once for 4 heads.
constexpr int64_t kSumHeads = 4, kSumVectors = 4;

// out[h] = sum over i of p[h * n + i] * latent[selected[i]] for h < count, c a whole number of vectors:
// per output element one MulAdd per key in key order from +0, the chain of roundings Axpy(p, latent, out)
// key after key makes from a zeroed out, kept in registers over all keys instead of stored and reloaded
// per key and head (at 2,048 keys the Axpy calls were ~8% of a 32K DSA decode step's samples).
void WeightedLatentsImpl(const float* p, const float* latent, int64_t c, const int32_t* selected, int64_t n,
                         int64_t count, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  using V = hn::Vec<decltype(df)>;
  // Column slices outer, head groups inner: a slice of every selected latent (2,048 x 256 B with AVX-512)
  // fits L2, so the head groups after the first read it from there.
  for (int64_t v0 = 0; v0 < c; v0 += kSumVectors * lanes) {
    const int64_t vectors = std::min(kSumVectors, (c - v0) / lanes);
    for (int64_t h0 = 0; h0 < count; h0 += kSumHeads) {
      const int64_t heads = std::min(kSumHeads, count - h0);
      V acc[kSumHeads][kSumVectors];
      for (int64_t g = 0; g < kSumHeads; ++g)
        for (int64_t v = 0; v < kSumVectors; ++v) acc[g][v] = hn::Zero(df);
      if (heads == kSumHeads && vectors == kSumVectors) {  // the common case, fully unrolled
        for (int64_t i = 0; i < n; ++i) {
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

// out[g] = Dot(q[g], k, n) for g < heads (<= kScoreHeads), n a multiple of 4 vectors, in DotImpl's order
// (kernels/cpu/matmul.cpp: accumulators by vector index mod 4, (s0 + s1) + (s2 + s3), then the lanes'
// sum), so the bits are those of per-head Dot calls; each key vector is loaded once for all the heads
// (one load per FMA plus a quarter, against two).
template <class D>
HWY_INLINE void HeadDots(D df, const float* const* q, int64_t heads, const float* k, int64_t n, float* out) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  using V = hn::Vec<D>;
  V s[kScoreHeads][4];
  for (int64_t g = 0; g < kScoreHeads; ++g)
    for (int64_t j = 0; j < 4; ++j) s[g][j] = hn::Zero(df);
  for (int64_t i = 0; i < n; i += 4 * lanes) {
    V kv[4];
    HWY_UNROLL(4) for (int64_t j = 0; j < 4; ++j) kv[j] = hn::LoadU(df, k + i + j * lanes);
    for (int64_t g = 0; g < heads; ++g)
      HWY_UNROLL(4) for (int64_t j = 0; j < 4; ++j) s[g][j] = hn::MulAdd(hn::LoadU(df, q[g] + i + j * lanes), kv[j], s[g][j]);
  }
  for (int64_t g = 0; g < heads; ++g)
    out[g] = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(s[g][0], s[g][1]), hn::Add(s[g][2], s[g][3]))));
}

// Whether ScoresImpl takes latent width c and rope width r (multiples of 4 vectors on this target).
bool ScoresFitImpl(int64_t c, int64_t r) {
  const int64_t group = 4 * static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  return c % group == 0 && r % group == 0;
}

// scores[h * n + i] = (Dot(q_latent[h], latent[selected[i]], c) + Dot(q_rope[h], k_rope[selected[i]], r)) *
// scale for every head and key: the bits of SparseMlaHeads' per-head Dot calls, key by key, heads in groups.
void ScoresImpl(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n,
                float scale, float* scores) {
  const hn::ScalableTag<float> df;
  const int64_t c = cache.kv_lora_rank, r = cache.qk_rope_head_dim;
  for (int64_t i = 0; i < n; ++i) {
    const float* latent = cache.latent + selected[i] * c;
    const float* k_rope = cache.k_rope + selected[i] * r;
    for (int64_t h0 = 0; h0 < heads.count; h0 += kScoreHeads) {
      const int64_t group = std::min(kScoreHeads, heads.count - h0);
      const float* ql[kScoreHeads];
      const float* qr[kScoreHeads];
      for (int64_t g = 0; g < group; ++g) {
        ql[g] = heads.q_latent + (h0 + g) * c;
        qr[g] = heads.q_rope + (h0 + g) * heads.q_rope_stride;
      }
      float dl[kScoreHeads], dr[kScoreHeads];
      HeadDots(df, ql, group, latent, c, dl);
      HeadDots(df, qr, group, k_rope, r, dr);
      for (int64_t g = 0; g < group; ++g) scores[(h0 + g) * n + i] = (dl[g] + dr[g]) * scale;
    }
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

void SparseMlaHeads(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n_selected,
                    float softmax_scale, float* scores) {
  const int64_t c = cache.kv_lora_rank, r = cache.qk_rope_head_dim, count = heads.count;
  if (HWY_DYNAMIC_DISPATCH(ScoresFitImpl)(c, r)) {
    HWY_DYNAMIC_DISPATCH(ScoresImpl)(heads, cache, selected, n_selected, softmax_scale, scores);
  } else {
    for (int64_t i = 0; i < n_selected; ++i) {
      const float* latent = cache.latent + selected[i] * c;
      const float* k_rope = cache.k_rope + selected[i] * r;
      for (int64_t h = 0; h < count; ++h)
        scores[h * n_selected + i] =
            (Dot(heads.q_latent + h * c, latent, c) + Dot(heads.q_rope + h * heads.q_rope_stride, k_rope, r)) * softmax_scale;
    }
  }
  // Softmax per head; each weight becomes exp(score - max) / sum, as SparseMlaHead's Axpy took it.
  for (int64_t h = 0; h < count; ++h) {
    float* p = scores + h * n_selected;
    float max_score = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n_selected; ++i) max_score = std::max(max_score, p[i]);
    float sum = 0.0f;
    for (int64_t i = 0; i < n_selected; ++i) {
      p[i] = std::exp(p[i] - max_score);
      sum += p[i];
    }
    for (int64_t i = 0; i < n_selected; ++i) p[i] /= sum;
  }
  if (HWY_DYNAMIC_DISPATCH(WeightedLatentsFitImpl)(c)) {
    HWY_DYNAMIC_DISPATCH(WeightedLatentsImpl)(scores, cache.latent, c, selected, n_selected, count, heads.out);
    return;
  }
  std::fill(heads.out, heads.out + count * c, 0.0f);
  for (int64_t i = 0; i < n_selected; ++i) {
    const float* latent = cache.latent + selected[i] * c;
    for (int64_t h = 0; h < count; ++h) Axpy(scores[h * n_selected + i], latent, heads.out + h * c, c);
  }
}

void SparseMlaHead(const float* q_latent, const float* q_rope, const LatentCache& cache, const int32_t* selected,
                   int64_t n_selected, float softmax_scale, float* scores, float* out) {
  SparseMlaHeads({.q_latent = q_latent, .q_rope = q_rope, .q_rope_stride = 0, .out = out, .count = 1}, cache, selected,
                 n_selected, softmax_scale, scores);
}

}  // namespace sieve::kernels
#endif
