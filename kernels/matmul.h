// Projections y = x W^T (and x W) over weights in their checkpoint dtype, fp32 activations and fp32
// accumulation. Output rows are split over the thread pool; each output element is computed by one
// thread in a fixed order, so results do not depend on the thread count.
// SIMD bodies: kernels/cpu/matmul.cpp (Highway, one build per target, dispatched at runtime); from
// kMinGemmTokens token rows on, a library sgemm (oneDNN) on decoded weight panels (kernels/blas_gemm.h).
#pragma once

#include <cstdint>

#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"

namespace sieve::kernels {

// y [n, w.rows] = x [n, w.cols] . W^T   (a Linear layer; n = 1 is the decode GEMV).
void Matmul(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);
// y [n, w.cols] = x [n, w.rows] . W   (the transposed product: absorbing kv_b_proj's key half into q).
void MatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);
// out [w.cols] = row r of W in fp32 (embedding lookup).
void DequantizeRow(const WeightMatrix& w, int64_t r, float* out);
// sum_i a[i] * b[i] in fp32 (SIMD lanes, then a fixed-order horizontal sum).
float Dot(const float* a, const float* b, int64_t n);
// y[i] += alpha * x[i].
void Axpy(float alpha, const float* x, float* y, int64_t n);

}  // namespace sieve::kernels
