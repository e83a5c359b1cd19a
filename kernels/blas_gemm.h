// Many-token projections through a library GEMM (OpenBLAS cblas_sgemm) on weights decoded to fp32 one
// panel at a time: prefill and big batches are compute-bound, and a register-blocked GEMM reaches the FMA
// peak that the per-token dot kernels of kernels/cpu/matmul.cpp (~1.3 FMA per load) cannot.
// kernels::Matmul / MatmulTransposed route here from kMinGemmTokens token rows on; fewer tokens (decode)
// keep the GEMV kernels, which read FP8 / BF16 weights in place and are bound by the weight stream.
#pragma once

#include <cstdint>

#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"

namespace sieve::kernels {

// From this many token rows on, decoding a weight panel once and multiplying it with sgemm beats the dot
// kernels (which also decode each weight tile once per call, but reuse it at ~1.3 FMA per load).
// The switch makes a token's result depend on how many rows share its matmul (a different summation
// order, ~1e-7 relative), never on the thread count; tests/unit/model/forward_consistency_test.cpp says
// which properties are bit-exact and which hold to a tolerance.
inline constexpr int64_t kMinGemmTokens = 16;

// Our ThreadPool already splits the work over the cores (threads pinned one per core); an OpenBLAS that
// also threaded each call would start its own threads inside every pool thread and oversubscribe the
// cores. So OpenBLAS runs single-threaded in whichever pool thread calls it: every caller of cblas_*
// calls this first (once per process does the work).
void UseOneBlasThread();

// y [n, w.rows] = x [n, w.cols] . W^T  and  y [n, w.cols] = x [n, w.rows] . W, as kernels/matmul.h.
void GemmMatmul(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);
void GemmMatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);

}  // namespace sieve::kernels
