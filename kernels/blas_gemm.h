// Many-token products through a library GEMM on weights decoded to fp32 one panel at a time: prefill and
// big batches are compute-bound, and a register-blocked GEMM reaches the FMA peak that the per-token dot
// kernels of kernels/cpu/matmul.cpp (~1.3 FMA per load) cannot. kernels::Matmul / MatmulTransposed route
// here from kMinGemmTokens token rows on; fewer tokens (decode) keep the GEMV kernels, which read FP8 / BF16
// weights in place and are bound by the weight stream.
// The GEMM is oneDNN's dnnl_sgemm (Debian's libdnnl-dev): its kernels are JIT-compiled for the ISA the CPU
// reports (AVX-512 where present), where Debian's OpenBLAS 0.3.21 does not know Zen 5 and falls back to
// AVX2 kernels: 1.4-1.8x single-threaded on our shapes (docs/performance.md, prefill round 4).
#pragma once

#include <cstdint>
#include <span>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"

namespace sieve::kernels {

// From this many token rows on, decoding a weight panel once and multiplying it with sgemm beats the dot
// kernels, which decode each weight vector in registers once per pair of tokens (kernels/cpu/fused_dot-inl.h).
// 64 since round 7 (docs/performance.md): with the pair kernel, batch-16 decode 131-133 ms/step against
// 138-148 at 16, and a 512-token prefill 0.80-0.85 s against 0.84-0.88 s.
// The switch makes a token's result depend on how many rows share its matmul (a different summation
// order, ~1e-7 relative), never on the thread count; tests/unit/model/forward_consistency_test.cpp says
// which properties are bit-exact and which hold to a tolerance.
inline constexpr int64_t kMinGemmTokens = 64;

// c [m, n] = a [m, k] . op(b), row-major with leading dimensions (strides of a row); op(b) = b^T with b
// [n, k] when `b_transposed`, else b [k, n]. Runs on the calling thread only: our ThreadPool already
// splits the work over the cores (threads pinned one per core), and a GEMM that threaded each call itself
// would start its own threads inside every pool thread and oversubscribe the cores.
void Sgemm(bool b_transposed, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc);

// Each product's y [n, w.rows] = x [n, w.cols] . W^T, as kernels/matmul.h, all of them in one pool job
// (the same sgemm calls, so the same bits, as one job per product); and y [n, w.cols] = x [n, w.rows] . W.
void GemmMatmulMany(std::span<const MatmulProduct> products, ThreadPool& pool);
void GemmMatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);

}  // namespace sieve::kernels
