// Many-query attention through sgemm (see gemm_attention.h). The softmax's exponentials are vectorised
// with Highway (compiled per target, dispatched at runtime): a 2,048-token causal prefill takes ~2M of
// them per head and layer, which a scalar std::exp would make a visible share of the step.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm_attention.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/gemm_attention.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// x[i] = exp((x[i] - shift) * scale) for i < n; returns their sum.
float ExpShiftedSumImpl(float* x, int64_t n, float shift, float scale) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const auto vshift = hn::Set(df, shift), vscale = hn::Set(df, scale);
  auto sum = hn::Zero(df);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto e = hn::Exp(df, hn::Mul(hn::Sub(hn::LoadU(df, x + i), vshift), vscale));
    hn::StoreU(e, df, x + i);
    sum = hn::Add(sum, e);
  }
  if (i < n) {  // the tail through one padded vector, its padding masked out of the sum
    HWY_ALIGN float tail[HWY_MAX_BYTES / sizeof(float)];
    std::fill(tail, tail + lanes, shift);
    std::copy(x + i, x + n, tail);
    const auto e = hn::Exp(df, hn::Mul(hn::Sub(hn::Load(df, tail), vshift), vscale));
    hn::Store(e, df, tail);
    std::copy(tail, tail + (n - i), x + i);
    sum = hn::Add(sum, hn::IfThenElseZero(hn::FirstN(df, static_cast<size_t>(n - i)), e));
  }
  return hn::GetLane(hn::SumOfLanes(df, sum));
}

// max of x[0, n), n > 0.
float MaxImpl(const float* x, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  float best = x[0];
  int64_t i = 0;
  if (n >= lanes) {
    auto v = hn::LoadU(df, x);
    for (i = lanes; i + lanes <= n; i += lanes) v = hn::Max(v, hn::LoadU(df, x + i));
    best = hn::GetLane(hn::MaxOfLanes(df, v));
  }
  for (; i < n; ++i) best = std::max(best, x[i]);
  return best;
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "kernels/blas_gemm.h"

namespace sieve::kernels {
HWY_EXPORT(ExpShiftedSumImpl);
HWY_EXPORT(MaxImpl);

namespace {

// Queries per sgemm call: big enough for sgemm's register blocking, small enough that the last block of a
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
    const float max_score = HWY_DYNAMIC_DISPATCH(MaxImpl)(row, m);
    const float inv_sum = 1.0f / HWY_DYNAMIC_DISPATCH(ExpShiftedSumImpl)(row, m, max_score, scale);
    for (int64_t j = 0; j < m; ++j) row[j] *= inv_sum;
    std::fill(row + m, row + n, 0.0f);
    return;
  }
  picked.resize(keys.size());
  float max_score = row[keys[0]];
  for (size_t j = 0; j < keys.size(); ++j) max_score = std::max(max_score, picked[j] = row[keys[j]]);
  const float sum = HWY_DYNAMIC_DISPATCH(ExpShiftedSumImpl)(picked.data(), static_cast<int64_t>(picked.size()),
                                                            max_score, scale);
  std::fill(row, row + n, 0.0f);
  const float inv_sum = 1.0f / sum;
  for (size_t j = 0; j < keys.size(); ++j) row[keys[j]] = picked[j] * inv_sum;
}

}  // namespace

void GemmAttention(const GemmAttentionInput& in, std::span<const std::vector<int32_t>> keys, float* out,
                   int64_t out_stride, ThreadPool& pool) {
  const int64_t n_queries = static_cast<int64_t>(keys.size());
  const int64_t blocks = (n_queries + kQueryBlock - 1) / kQueryBlock;
  pool.ParallelFor(blocks, [&](int64_t b0, int64_t b1) {
    thread_local std::vector<float> scores, picked;  // [queries of a block, keys it reaches]; reused across calls
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t q0 = b * kQueryBlock, nq = std::min(kQueryBlock, n_queries - q0);
      int64_t reach = 0;  // keys 0..reach-1 cover every key of the block's queries
      for (int64_t i = q0; i < q0 + nq; ++i) reach = std::max<int64_t>(reach, keys[i].back() + 1);
      scores.resize(static_cast<size_t>(nq * reach));
      // scores [nq, reach] = q[q0:q0+nq] . k[0:reach]^T
      Sgemm(true, nq, reach, in.qk_dim, in.q + q0 * in.q_stride, in.q_stride, in.k, in.k_stride, scores.data(), reach);
      for (int64_t i = 0; i < nq; ++i) MaskedSoftmax(scores.data() + i * reach, reach, keys[q0 + i], in.softmax_scale, picked);
      // out[q0:q0+nq] = p [nq, reach] . v[0:reach]
      Sgemm(false, nq, in.v_dim, reach, scores.data(), reach, in.v, in.v_stride, out + q0 * out_stride, out_stride);
    }
  });
}

}  // namespace sieve::kernels
#endif  // HWY_ONCE
