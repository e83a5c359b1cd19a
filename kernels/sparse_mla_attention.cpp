// Absorbed MLA attention for one head over selected tokens (see sparse_mla_attention.h).
#include "kernels/sparse_mla_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/matmul.h"

namespace sieve::kernels {

void SparseMlaHead(const float* q_latent, const float* q_rope, const LatentCache& cache, const int32_t* selected,
                   int64_t n_selected, float softmax_scale, float* scores, float* out) {
  const int64_t c = cache.kv_lora_rank, r = cache.qk_rope_head_dim;
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n_selected; ++i) {
    const int64_t s = selected[i];
    scores[i] = (Dot(q_latent, cache.latent + s * c, c) + Dot(q_rope, cache.k_rope + s * r, r)) * softmax_scale;
    max_score = std::max(max_score, scores[i]);
  }
  float sum = 0.0f;
  for (int64_t i = 0; i < n_selected; ++i) {
    scores[i] = std::exp(scores[i] - max_score);
    sum += scores[i];
  }
  std::fill(out, out + c, 0.0f);
  for (int64_t i = 0; i < n_selected; ++i) Axpy(scores[i] / sum, cache.latent + selected[i] * c, out, c);
}

}  // namespace sieve::kernels
