// The GEMM of many-token projections (prefill, long chunks): c = a . B on fp32 operands, register-blocked.
// Hand-written rather than a library call: on the AMD Zen 5 machine of docs/performance.md (round 15)
// oneDNN's dnnl_sgemm ran the prefill's shapes (256 tokens x 128 weight rows x 1,024) at 160-188
// GFLOP/s per core, 72-85% of the FMA peak, and this kernel at 209-214 GFLOP/s (95-97%): its B operand
// comes packed once per weight panel (the FP8 / BF16 decode writes it in that layout anyway), so the
// inner loop is nothing but vector loads of B, broadcasts of a and FMAs.
//
// Numerics: each output element is one fp32 chain of multiply-adds (fused on targets with FMA) over k in
// order within each block of kPanelGemmDepth, and the blocks' sums are added to c in order. So an
// element's bits depend on its own row of a and column of B only: never on m, n, the thread count or how
// a caller cuts the product.
// SIMD body: kernels/cpu/panel_gemm.cpp (Highway, one build per target, dispatched at runtime).
#pragma once

#include <cstdint>

namespace sieve::kernels {

// Depth of a block of k (see Numerics): one group's B block (512 x 2 vectors, 64 KiB with AVX-512) is
// read from L1 / L2 once per tile of a's rows; 256, 512 and 1,024 ran within 2% of each other.
inline constexpr int64_t kPanelGemmDepth = 512;

// Columns of one group of the B operand on the CPU's SIMD target (two vectors: 32 with AVX-512).
int64_t PanelGemmGroupColumns();

// The packed layout of B = W^T for W [rows, k] row-major with row stride ldw (a weight panel, or keys:
// PanelGemm's column j is W's row j): group g [k, G] at packed + g * k * G, element (kk, j) =
// W[g * G + j, kk], zeros for rows past `rows`. packed holds ceil(rows / G) * G * k floats.
void PackPanel(const float* w, int64_t ldw, int64_t rows, int64_t k, float* packed);

// c [m, n] = a [m, k] . B, row-major a and c with row strides lda and ldc. B [k, n] comes in groups of
// G = PanelGemmGroupColumns() columns: element (kk, j) at b[(j / G) * group_stride + kk * ldb + j % G].
// Every group, the last one included, must have G readable floats per kk (zeros past n); c gets only its
// n columns.
//   Packed weight panel (PackedPanelGemm's layout): ldb = G, group_stride = k * G.
//   A row-major [k, ld] matrix whose rows are padded to a multiple of G: ldb = ld, group_stride = G.
void PanelGemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
               int64_t group_stride, float* c, int64_t ldc);

}  // namespace sieve::kernels
