// Projections y = x W^T (and x W) over weights in their checkpoint dtype, fp32 activations and fp32
// accumulation. Output rows are split over the thread pool; each output element is computed by one
// thread in a fixed order, so results do not depend on the thread count.
// SIMD bodies: kernels/cpu/matmul.cpp (Highway, one build per target, dispatched at runtime); from
// kMinGemmTokens token rows on, a register-blocked GEMM on decoded weight panels (kernels/gemm_matmul.h).
#pragma once

#include <cstdint>
#include <span>

#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"

namespace sieve::kernels {

// y [n, w.rows] = x [n, w.cols] . W^T   (a Linear layer; n = 1 is the decode GEMV).
void Matmul(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);
// One product of MatmulMany: y [n, w->rows] = x [n, w->cols] . W^T.
struct MatmulProduct {
  const WeightMatrix* w;
  const float* x;
  int64_t n;
  float* y;
};
// Every product exactly as Matmul computes it alone (same bits), but the GEMV-sized ones (n below
// kMinGemmTokens) share one pool job: their row tiles are split over the threads in one ParallelFor, so a
// decode step pays one pool round trip, not one per matrix, for the projections that read the same input
// (a MoE layer's chosen experts' gate and up, then their down), and the prefetch runs on across matrices.
// The products run in no particular order: none may read what another one writes.
void MatmulMany(std::span<const MatmulProduct> products, ThreadPool& pool);
// y [n, w.cols] = x [n, w.rows] . W   (the transposed product: absorbing kv_b_proj's key half into q).
void MatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);
// MatmulTransposed of every product (y [n, w->cols] = x [n, w->rows] . W here), with the same bits, the
// GEMV-sized ones in one pool job (MLA decode's 16 per-head slices of kv_b_proj).
void MatmulTransposedMany(std::span<const MatmulProduct> products, ThreadPool& pool);
// out [w.cols] = row r of W in fp32 (embedding lookup).
void DequantizeRow(const WeightMatrix& w, int64_t r, float* out);
// sum_i a[i] * b[i] in fp32 (SIMD lanes, then a fixed-order horizontal sum).
float Dot(const float* a, const float* b, int64_t n);
// y[i] += alpha * x[i].
void Axpy(float alpha, const float* x, float* y, int64_t n);

}  // namespace sieve::kernels
