// Lightning-indexer scores (see index_score.h).
#include "kernels/index_score.h"

#include <algorithm>

#include "kernels/matmul.h"

namespace sieve::kernels {

void IndexScores(const float* q, const float* w, int64_t n_heads, int64_t head_dim, const float* keys,
                 int64_t n_keys, float* scores) {
  for (int64_t s = 0; s < n_keys; ++s) {
    float sum = 0.0f;
    for (int64_t h = 0; h < n_heads; ++h)
      sum += w[h] * std::max(0.0f, Dot(q + h * head_dim, keys + s * head_dim, head_dim));
    scores[s] = sum;
  }
}

}  // namespace sieve::kernels
