// A well-tuned library GEMM for bench/gemm_bench.cpp to measure ours against (issue 9 sets prefill's
// target against the FMA peak or such a library, whichever is higher). It ran Sieve's many-token products
// and prefill attention until round 15 of docs/performance.md, when kernels/panel_gemm.h replaced it.
// The GEMM is oneDNN's dnnl_sgemm (Debian's libdnnl-dev): its kernels are JIT-compiled for the ISA the CPU
// reports (AVX-512 where present), where Debian's OpenBLAS 0.3.21 does not know Zen 5 and falls back to
// AVX2 kernels: 1.4-1.8x single-threaded on our shapes (docs/performance.md, prefill round 4).
#pragma once

#include <cstdint>

namespace sieve::bench {

// c [m, n] = a [m, k] . op(b), row-major with leading dimensions (strides of a row); op(b) = b^T with b
// [n, k] when `b_transposed`, else b [k, n]. Runs on the calling thread only: our ThreadPool already
// splits the work over the cores (threads pinned one per core), and a GEMM that threaded each call itself
// would start its own threads inside every pool thread and oversubscribe the cores.
void Sgemm(bool b_transposed, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc);

}  // namespace sieve::bench
