// Absorbed MLA attention for one head over selected tokens (see sparse_mla_attention.h).
#include "kernels/sparse_mla_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/matmul.h"

namespace sieve::kernels {

void SparseMlaHeads(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n_selected,
                    float softmax_scale, float* scores) {
  const int64_t c = cache.kv_lora_rank, r = cache.qk_rope_head_dim, count = heads.count;
  for (int64_t i = 0; i < n_selected; ++i) {
    const float* latent = cache.latent + selected[i] * c;
    const float* k_rope = cache.k_rope + selected[i] * r;
    for (int64_t h = 0; h < count; ++h)
      scores[h * n_selected + i] =
          (Dot(heads.q_latent + h * c, latent, c) + Dot(heads.q_rope + h * heads.q_rope_stride, k_rope, r)) * softmax_scale;
  }
  std::vector<float> sums(count);
  for (int64_t h = 0; h < count; ++h) {
    float* p = scores + h * n_selected;
    float max_score = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n_selected; ++i) max_score = std::max(max_score, p[i]);
    float sum = 0.0f;
    for (int64_t i = 0; i < n_selected; ++i) {
      p[i] = std::exp(p[i] - max_score);
      sum += p[i];
    }
    sums[h] = sum;
  }
  std::fill(heads.out, heads.out + count * c, 0.0f);
  for (int64_t i = 0; i < n_selected; ++i) {
    const float* latent = cache.latent + selected[i] * c;
    for (int64_t h = 0; h < count; ++h) Axpy(scores[h * n_selected + i] / sums[h], latent, heads.out + h * c, c);
  }
}

void SparseMlaHead(const float* q_latent, const float* q_rope, const LatentCache& cache, const int32_t* selected,
                   int64_t n_selected, float softmax_scale, float* scores, float* out) {
  SparseMlaHeads({.q_latent = q_latent, .q_rope = q_rope, .q_rope_stride = 0, .out = out, .count = 1}, cache, selected,
                 n_selected, softmax_scale, scores);
}

}  // namespace sieve::kernels
