// Attention of many queries at once through a GEMM (kernels/panel_gemm.h): MLA's prefill form (DeepSeek-V3.2-Exp inference/model.py,
// MLA.forward, the `mask is not None` branch): per head, scores = q . [k_nope | k_rope]^T * softmax_scale,
// masked to the keys each query may see (causal, and DSA's top-k: the reference adds -inf outside them),
// softmax over the keys, then p . v. Prefill and long chunks are compute-bound; the per-key dot and AXPY
// of the decode kernel (sparse_mla_attention.h) run at ~1 FMA per load, a register-blocked GEMM near the
// FMA peak (docs/performance.md, prefill).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/thread_pool.h"

namespace sieve::kernels {

// Row-major operands with row strides (so one head's slice of a [tokens, heads, dim] tensor is a view).
struct GemmAttentionInput {
  const float* q = nullptr;  // [n_queries, qk_dim], row i at q + i * q_stride
  int64_t q_stride = 0;
  const float* k = nullptr;  // [n_keys, qk_dim]
  int64_t k_stride = 0;
  const float* v = nullptr;  // [n_keys, v_dim]
  int64_t v_stride = 0;
  int64_t n_keys = 0, qk_dim = 0, v_dim = 0;
  float softmax_scale = 1.0f;
};

// keys[i]: the ascending, non-empty key rows (< n_keys) query i attends to; every other key gets exactly
// zero weight. out [keys.size(), v_dim], row i at out + i * out_stride.
// Queries are cut into a fixed grid of blocks, each block's scores reaching only as far as its last
// needed key (so a causal prefill computes about half the square); the grid depends on the query count
// only, so results do not depend on the thread count.
void GemmAttention(const GemmAttentionInput& in, std::span<const std::vector<int32_t>> keys, float* out,
                   int64_t out_stride, ThreadPool& pool);

}  // namespace sieve::kernels
