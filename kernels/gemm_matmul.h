// Many-token products on weights decoded to fp32 one panel at a time, through the register-blocked GEMM of
// kernels/panel_gemm.h: prefill and long chunks are compute-bound, and a register-blocked GEMM reaches
// the FMA peak that the per-token dot kernels of kernels/cpu/matmul.cpp (~1.3 FMA per load) cannot.
// kernels::Matmul / MatmulTransposed route here from kMinGemmTokens token rows on; fewer tokens (decode)
// keep the GEMV kernels, which read FP8 / BF16 weights in place and are bound by the weight stream.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"

namespace sieve::kernels {

// From this many token rows on, decoding a weight panel once and multiplying it with the GEMM beats the
// dot kernels, which decode each weight vector in registers once per pair of tokens
// (kernels/cpu/fused_dot-inl.h). 64 since round 7 (docs/performance.md): with the pair kernel, batch-16
// decode 131-133 ms/step against 138-148 at 16, and a 512-token prefill 0.80-0.85 s against 0.84-0.88 s.
// The switch makes a token's result depend on how many rows share its matmul (a different summation
// order, ~1e-7 relative), never on the thread count; tests/unit/model/forward_consistency_test.cpp says
// which properties are bit-exact and which hold to a tolerance.
inline constexpr int64_t kMinGemmTokens = 64;

// Each product's y [n, w.rows] = x [n, w.cols] . W^T, as kernels/matmul.h, all of them in one pool job
// (the same GEMM calls, so the same bits, as one job per product); and y [n, w.cols] = x [n, w.rows] . W.
void GemmMatmulMany(std::span<const MatmulProduct> products, ThreadPool& pool);
void GemmMatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool);

}  // namespace sieve::kernels
