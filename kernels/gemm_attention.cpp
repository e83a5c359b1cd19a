// Many-query attention through the packed-panel GEMM (see gemm_attention.h); the softmax's exponentials
// in SIMD (kernels/exp_sum.h).
#include "kernels/gemm_attention.h"

#include <algorithm>

#include "kernels/exp_sum.h"
#include "kernels/panel_gemm.h"

namespace sieve::kernels {
namespace {

// Queries per GEMM call: many register tiles of rows per packed group of keys, small enough that the last block of a
// causal prefill computes few masked scores past the diagonal and 2 x 32 blocks of a 2,048-token prefill
// balance over the threads.
constexpr int64_t kQueryBlock = 64;

// row [n] holds one query's raw scores against keys 0..n-1; afterwards its softmax over `keys` (scaled),
// zero elsewhere. `picked` is scratch.
void MaskedSoftmax(float* row, int64_t n, const std::vector<int32_t>& keys, float scale, std::vector<float>& picked) {
  const int64_t m = static_cast<int64_t>(keys.size());
  if (keys.back() == m - 1) {
    // Ascending rows ending at m - 1 are rows 0..m-1 (a causal query: most of a prefill's): the same
    // softmax in place, without gathering the scores, zeroing the whole row and scattering them back
    // (three passes over the row; the zeroing alone was ~7% of a 2,048-token prefill's samples).
    const float max_score = MaxOf(row, m);
    const float inv_sum = 1.0f / ExpShiftedSum(row, m, max_score, scale);
    for (int64_t j = 0; j < m; ++j) row[j] *= inv_sum;
    std::fill(row + m, row + n, 0.0f);
    return;
  }
  picked.resize(keys.size());
  float max_score = row[keys[0]];
  for (size_t j = 0; j < keys.size(); ++j) max_score = std::max(max_score, picked[j] = row[keys[j]]);
  const float sum = ExpShiftedSum(picked.data(), static_cast<int64_t>(picked.size()), max_score, scale);
  std::fill(row, row + n, 0.0f);
  const float inv_sum = 1.0f / sum;
  for (size_t j = 0; j < keys.size(); ++j) row[keys[j]] = picked[j] * inv_sum;
}

}  // namespace

void GemmAttention(const GemmAttentionInput& in, std::span<const std::vector<int32_t>> keys, float* out,
                   int64_t out_stride, ThreadPool& pool) {
  const int64_t n_queries = static_cast<int64_t>(keys.size());
  const int64_t blocks = (n_queries + kQueryBlock - 1) / kQueryBlock;
  // Blocks are claimed last first: in a causal prefill block b costs ~b + 1, and the pool hands out chunks
  // in order, so the costliest go first and the cheap ones fill the gaps at the end (longest processing
  // time first). In order, by the chunk arithmetic, 2 threads over the 32 blocks of 2,048 queries (8 chunks
  // of 4) would idle ~11% of the attention's time on the last chunk.
  // The head's keys and values in PanelGemm's B layouts, once for all query blocks: k^T packed (groups of
  // G keys), v as is when its rows hold whole groups of G columns, else copied into rows padded to them.
  // Built on the calling thread (n_keys x (qk + v) floats, against ~n_keys^2 x (qk + v) FMAs for a causal
  // prefill); the workers read them through the pointers below, not the thread_locals.
  const int64_t group = PanelGemmGroupColumns();
  int64_t n_keys = 0;
  for (const std::vector<int32_t>& k : keys) n_keys = std::max<int64_t>(n_keys, k.back() + 1);
  thread_local std::vector<float> packed_k_storage, padded_v_storage;
  packed_k_storage.resize(static_cast<size_t>((n_keys + group - 1) / group * group * in.qk_dim));
  PackPanel(in.k, in.k_stride, n_keys, in.qk_dim, packed_k_storage.data());
  const float* packed_k = packed_k_storage.data();
  const float* v = in.v;
  int64_t ldv = in.v_stride;
  if (in.v_dim % group != 0) {
    ldv = (in.v_dim + group - 1) / group * group;
    padded_v_storage.assign(static_cast<size_t>(n_keys * ldv), 0.0f);
    for (int64_t j = 0; j < n_keys; ++j)
      std::copy_n(in.v + j * in.v_stride, in.v_dim, padded_v_storage.data() + j * ldv);
    v = padded_v_storage.data();
  }
  pool.ParallelFor(blocks, [&](int64_t c0, int64_t c1) {
    thread_local std::vector<float> scores, picked;  // [queries of a block, keys it reaches]; reused across calls
    for (int64_t claim = c0; claim < c1; ++claim) {
      const int64_t b = blocks - 1 - claim;
      const int64_t q0 = b * kQueryBlock, nq = std::min(kQueryBlock, n_queries - q0);
      int64_t reach = 0;  // keys 0..reach-1 cover every key of the block's queries
      for (int64_t i = q0; i < q0 + nq; ++i) reach = std::max<int64_t>(reach, keys[i].back() + 1);
      scores.resize(static_cast<size_t>(nq * reach));
      // scores [nq, reach] = q[q0:q0+nq] . k[0:reach]^T
      PanelGemm(nq, reach, in.qk_dim, in.q + q0 * in.q_stride, in.q_stride, packed_k, group, in.qk_dim * group,
                scores.data(), reach);
      for (int64_t i = 0; i < nq; ++i) MaskedSoftmax(scores.data() + i * reach, reach, keys[q0 + i], in.softmax_scale, picked);
      // out[q0:q0+nq] = p [nq, reach] . v[0:reach]
      PanelGemm(nq, in.v_dim, reach, scores.data(), reach, v, ldv, group, out + q0 * out_stride, out_stride);
    }
  });
}

}  // namespace sieve::kernels
