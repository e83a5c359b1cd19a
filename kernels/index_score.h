// Lightning-indexer scores of one query against many keys (DeepSeek-V3.2-Exp report eq. (1)):
//   I[s] = sum_h w[h] * ReLU(q[h] . k[s])     (ReLU before the weighting; w may be negative)
#pragma once

#include <cstdint>

namespace sieve::kernels {

// q [n_heads, head_dim], w [n_heads], keys [n_keys, head_dim], scores [n_keys].
// Each score is computed by the same operations in the same order whatever n_keys and whichever block
// of keys it falls in, so splitting the keys over threads does not change results.
void IndexScores(const float* q, const float* w, int64_t n_heads, int64_t head_dim, const float* keys,
                 int64_t n_keys, float* scores);

}  // namespace sieve::kernels
